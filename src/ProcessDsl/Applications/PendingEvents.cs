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

    public IReadOnlyList<NewEvent> Events { get; }

    public IReadOnlyList<DomainEvent> DomainEvents { get; }

    /// <summary>Each aggregate with the number of its pending events included here.</summary>
    public IReadOnlyList<(Aggregate Aggregate, int Count)> Counts { get; }

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
        var command = step is null ? EventMetadata.ForCommand() : null;
        var events = new List<NewEvent>();
        var domainEvents = new List<DomainEvent>();
        var counts = new List<(Aggregate, int)>();
        // A save or a step has a few aggregates: a set to skip repeats only when there are many.
        var seen = aggregates is IReadOnlyCollection<Aggregate> { Count: <= 8 } ? null : new HashSet<Aggregate>(ReferenceEqualityComparer.Instance);
        var index = 0;
        foreach (var aggregate in aggregates)
        {
            ArgumentNullException.ThrowIfNull(aggregate);
            if (seen is not null ? !seen.Add(aggregate) : SeenBefore(aggregates, aggregate, index)) { index++; continue; }
            index++;
            var pending = aggregate.PendingEvents;
            if (pending.Count == 0) continue;
            foreach (var e in pending)
            {
                var (topic, state) = EventTopics.Serialize(e);
                events.Add(new NewEvent(e.OriginatorId, e.OriginatorVersion, topic, state, e.Timestamp, EventTopics.VersionOf(e.GetType()),
                    step is null ? command : step.MetadataOf(e)));
                domainEvents.Add(e);
            }
            counts.Add((aggregate, pending.Count));
        }
        return new PendingEvents(events, domainEvents, counts);
    }

    private static bool SeenBefore(IEnumerable<Aggregate> aggregates, Aggregate aggregate, int index)
    {
        var i = 0;
        foreach (var earlier in aggregates)
        {
            if (i++ == index) return false;
            if (ReferenceEquals(earlier, aggregate)) return true;
        }
        return false;
    }
}
