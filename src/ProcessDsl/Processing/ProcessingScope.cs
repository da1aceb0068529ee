namespace ProcessDsl;

/// <summary>
/// The state of one processing step while its policies run: the aggregates collected so far (so a
/// later policy in the same batch gets them as changed, not as stored) and its unit of work.
/// Policies run synchronously on the step's thread, so the current scope is thread-static.
/// </summary>
internal sealed class ProcessingScope : IDisposable
{
    [ThreadStatic] private static ProcessingScope? t_current;

    private readonly ProcessingScope? _outer;
    private readonly Dictionary<Guid, Aggregate> _byId = [];

    public ProcessingScope(Application owner, StepTransaction step)
    {
        Owner = owner;
        Step = step;
        _outer = t_current;
        t_current = this;
    }

    public static ProcessingScope? Current => t_current;

    public Application Owner { get; }

    /// <summary>The step's unit of work: its reads and row writes go through it.</summary>
    public StepTransaction Step { get; }

    /// <summary>Collected aggregates, in the order first collected.</summary>
    public List<Aggregate> Aggregates { get; } = [];

    public void Collect(Aggregate aggregate)
    {
        if (_byId.TryGetValue(aggregate.Id, out var existing))
        {
            if (!ReferenceEquals(existing, aggregate))
                throw new InvalidOperationException(
                    $"Aggregate {aggregate.Id} was collected twice as two different objects in one processing step of '{Owner.Name}'. " +
                    "Get it through the application's Repository, which returns the collected object.");
            return;
        }
        _byId[aggregate.Id] = aggregate;
        Aggregates.Add(aggregate);
    }

    public bool TryGet(Guid id, out Aggregate aggregate) => _byId.TryGetValue(id, out aggregate!);

    public void Dispose()
    {
        if (t_current == this) t_current = _outer;
    }
}
