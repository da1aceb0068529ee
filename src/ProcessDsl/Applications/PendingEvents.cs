namespace ProcessDsl;

/// <summary>The pending events of a set of aggregates, serialised and ready to store.</summary>
internal sealed class PendingEvents
{
    private PendingEvents(List<NewEvent> events, List<DomainEvent> domainEvents, List<(Aggregate, int)> counts)
    {
        Events = events;
        DomainEvents = domainEvents;
        Counts = counts;
    }

    public List<NewEvent> Events { get; }

    public List<DomainEvent> DomainEvents { get; }

    /// <summary>
    /// Each aggregate with the number of its pending events included here, in the order their events
    /// stand in <see cref="DomainEvents"/> and <see cref="Events"/> (an aggregate's events together).
    /// </summary>
    public List<(Aggregate Aggregate, int Count)> Counts { get; }

    private static readonly PendingEvents s_none = new([], [], []);

    /// <summary>
    /// The pending events of the aggregates; with <paramref name="step"/> (a processing step), each
    /// event carries the metadata of the upstream event whose policy triggered it, otherwise (a
    /// command's save) the metadata of the current activity and correlation scope.
    /// </summary>
    public static PendingEvents Of(IEnumerable<Aggregate> aggregates, ProcessingScope? step = null)
    {
        // A step whose batch had nothing for its policies only moves its position.
        if (aggregates is IReadOnlyCollection<Aggregate> { Count: 0 }) return s_none;
        // A save or a step has a few aggregates, usually in a list: indexed, no enumerator to allocate.
        var list = aggregates as IReadOnlyList<Aggregate> ?? [.. aggregates];
        var command = step is null ? EventMetadata.ForCommand() : null;
        var events = new List<NewEvent>(list.Count);
        var domainEvents = new List<DomainEvent>(list.Count);
        var counts = new List<(Aggregate, int)>(list.Count);
        // A set to skip repeats only when there are many; a few are compared with those before them.
        var seen = list.Count <= 8 ? null : new HashSet<Aggregate>(ReferenceEqualityComparer.Instance);
        for (var index = 0; index < list.Count; index++)
        {
            var aggregate = list[index];
            ArgumentNullException.ThrowIfNull(aggregate);
            if (seen is not null ? !seen.Add(aggregate) : SeenBefore(list, aggregate, index)) continue;
            var pending = aggregate.PendingEvents;
            if (pending.Count == 0) continue;
            for (var i = 0; i < pending.Count; i++)
            {
                var e = pending[i];
                var (topic, state) = EventTopics.Serialize(e);
                events.Add(new NewEvent(e.OriginatorId, e.OriginatorVersion, topic, state, e.Timestamp, EventTopics.VersionOf(e.GetType()),
                    step is null ? command : step.MetadataOf(e)));
                domainEvents.Add(e);
            }
            counts.Add((aggregate, pending.Count));
        }
        return new PendingEvents(events, domainEvents, counts);
    }

    private static bool SeenBefore(IReadOnlyList<Aggregate> aggregates, Aggregate aggregate, int index)
    {
        for (var i = 0; i < index; i++)
            if (ReferenceEquals(aggregates[i], aggregate)) return true;
        return false;
    }
}
