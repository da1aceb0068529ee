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
    private Guid _originatorId;
    private long _originatorVersion;

    /// <summary>The id of the aggregate this event belongs to.</summary>
    /// <remarks>
    /// Stored in a column of its own, not in the event's stored state (see
    /// <see cref="EventTopics.SerializerOptions"/>); an event read from a store has the column's value.
    /// </remarks>
    public Guid OriginatorId { get => _originatorId; init => _originatorId = value; }

    /// <summary>The aggregate's version after this event: 1 for the event that created it.</summary>
    /// <remarks>Stored in a column of its own, as <see cref="OriginatorId"/> is.</remarks>
    public long OriginatorVersion { get => _originatorVersion; init => _originatorVersion = value; }

    /// <summary>When the event was triggered (UTC).</summary>
    public DateTimeOffset Timestamp { get; init; }

    /// <summary>Sets the aggregate id and version of an event read from a store, from the stored notification's columns.</summary>
    internal void SetOrigin(Guid originatorId, long originatorVersion)
    {
        _originatorId = originatorId;
        _originatorVersion = originatorVersion;
    }
}
