namespace ProcessDsl;

/// <summary>
/// Base record of every domain event. An event records one change of one aggregate: which
/// aggregate (<see cref="OriginatorId"/>), at which version (<see cref="OriginatorVersion"/>) and when.
/// </summary>
/// <remarks>
/// Declare events as records nested in their aggregate, e.g.
/// <c>public sealed record Reserved(Guid ReservationId) : DomainEvent;</c>. The three base
/// properties are stamped by <see cref="Aggregate"/> when the event is triggered.
/// </remarks>
public abstract record DomainEvent
{
    /// <summary>The id of the aggregate this event belongs to.</summary>
    public Guid OriginatorId { get; init; }

    /// <summary>The aggregate's version after this event: 1 for the event that created it.</summary>
    public long OriginatorVersion { get; init; }

    /// <summary>When the event was triggered (UTC).</summary>
    public DateTimeOffset Timestamp { get; init; }
}
