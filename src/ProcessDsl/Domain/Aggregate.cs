namespace ProcessDsl;

/// <summary>
/// Base class of event-sourced aggregates. State changes only by triggering events
/// (<see cref="Trigger"/>), which are applied at once and kept as pending until the aggregate is
/// saved; an aggregate is reconstructed by applying its stored events in order.
/// </summary>
/// <remarks>
/// Declare aggregates <c>partial</c> and mark apply methods with <see cref="ApplyAttribute"/>: the
/// source generator overrides <see cref="ApplyEvent"/> with a dispatch over them.
/// </remarks>
public abstract class Aggregate
{
    private List<DomainEvent>? _pending;

    /// <summary>The aggregate's id, set by the event that created it.</summary>
    public Guid Id { get; private set; }

    /// <summary>The number of events applied so far: 1 after creation.</summary>
    public long Version { get; private set; }

    /// <summary>When the aggregate was created.</summary>
    public DateTimeOffset CreatedOn { get; private set; }

    /// <summary>When the aggregate last changed.</summary>
    public DateTimeOffset ModifiedOn { get; private set; }

    /// <summary>Events triggered since the aggregate was last saved, oldest first.</summary>
    public IReadOnlyList<DomainEvent> PendingEvents => (IReadOnlyList<DomainEvent>?)_pending ?? [];

    /// <summary>
    /// Creates an aggregate of type <typeparamref name="T"/> with the given id by triggering its
    /// creation event.
    /// </summary>
    protected static T Create<T>(Guid id, DomainEvent created) where T : Aggregate, new()
    {
        ArgumentNullException.ThrowIfNull(created);
        if (id == Guid.Empty) throw new ArgumentException("An aggregate id must not be Guid.Empty.", nameof(id));
        var aggregate = new T();
        aggregate.TriggerWith(id, created);
        return aggregate;
    }

    /// <summary>
    /// Triggers a new event: stamps it with this aggregate's id, next version and the current time,
    /// applies it, and keeps it as pending until the aggregate is saved.
    /// </summary>
    protected void Trigger(DomainEvent domainEvent)
    {
        ArgumentNullException.ThrowIfNull(domainEvent);
        if (Version == 0)
            throw new InvalidOperationException($"{GetType().Name} has not been created: use Create<T>(id, createdEvent) first.");
        TriggerWith(Id, domainEvent);
    }

    private void TriggerWith(Guid id, DomainEvent domainEvent)
    {
        var stamped = domainEvent with
        {
            OriginatorId = id,
            OriginatorVersion = Version + 1,
            Timestamp = EventClock.UtcNow,
        };
        Mutate(stamped);
        (_pending ??= []).Add(stamped);
        ProcessingScope.Triggered(stamped);
    }

    /// <summary>
    /// Applies the event to the aggregate's user-defined state. The source generator overrides this
    /// with a type switch over the aggregate's <see cref="ApplyAttribute"/> methods; events without an
    /// apply method only advance the version.
    /// </summary>
    protected virtual void ApplyEvent(DomainEvent domainEvent)
    {
    }

    /// <summary>Applies a stored or new event, checking that it is the next in this aggregate's sequence.</summary>
    internal void Mutate(DomainEvent domainEvent)
    {
        if (domainEvent.OriginatorVersion != Version + 1)
            throw new InvalidOperationException(
                $"Event {domainEvent.GetType().Name} has version {domainEvent.OriginatorVersion} but {GetType().Name} {Id} is at version {Version}: events must be applied in order.");
        if (Version == 0)
        {
            Id = domainEvent.OriginatorId;
            CreatedOn = domainEvent.Timestamp;
        }
        else if (domainEvent.OriginatorId != Id)
        {
            throw new InvalidOperationException(
                $"Event {domainEvent.GetType().Name} belongs to aggregate {domainEvent.OriginatorId}, not {Id}.");
        }
        ApplyEvent(domainEvent);
        Version = domainEvent.OriginatorVersion;
        ModifiedOn = domainEvent.Timestamp;
    }

    /// <summary>Forgets the pending events once they are stored.</summary>
    internal void MarkSaved(int count)
    {
        if (_pending is null) return;
        if (count >= _pending.Count) _pending.Clear();
        else _pending.RemoveRange(0, count);
    }

    /// <summary>Rebuilds an aggregate from its stored events, oldest first.</summary>
    internal static T Reconstruct<T>(IEnumerable<DomainEvent> events) where T : Aggregate, new()
    {
        var aggregate = new T();
        foreach (var e in events) aggregate.Mutate(e);
        return aggregate;
    }
}
