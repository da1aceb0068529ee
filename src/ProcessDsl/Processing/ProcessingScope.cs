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
    // A step collects a few aggregates and triggers a few events: looked up by a scan of the lists
    // below, with maps built only when they grow past this.
    private const int ScanLimit = 16;
    private Dictionary<Guid, Aggregate>? _byId;
    private List<(DomainEvent Event, EventCause Cause)>? _causes;
    private Dictionary<DomainEvent, EventCause>? _causeOf;

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
        if (TryGet(aggregate.Id, out var existing))
        {
            if (!ReferenceEquals(existing, aggregate))
                throw new InvalidOperationException(
                    $"Aggregate {aggregate.Id} was collected twice as two different objects in one processing step of '{Owner.Name}'. " +
                    "Get it through the application's Repository, which returns the collected object.");
            return;
        }
        Aggregates.Add(aggregate);
        if (_byId is not null) _byId[aggregate.Id] = aggregate;
        else if (Aggregates.Count > ScanLimit)
        {
            _byId = [];
            foreach (var collected in Aggregates) _byId[collected.Id] = collected;
        }
    }

    public bool TryGet(Guid id, out Aggregate aggregate)
    {
        if (_byId is not null) return _byId.TryGetValue(id, out aggregate!);
        foreach (var collected in Aggregates)
            if (collected.Id == id)
            {
                aggregate = collected;
                return true;
            }
        aggregate = null!;
        return false;
    }

    /// <summary>Whether the owner's aggregate cache was brought up to the log's newest id in this step (see <see cref="Repository"/>).</summary>
    public bool CacheChecked { get; set; }

    private string? _causeUpstream;
    private Notification? _causeNotification;
    private System.Diagnostics.ActivityContext _causeContext;
    private EventCause? _cause;

    /// <summary>The upstream event whose policy runs now: events triggered meanwhile were caused by it.</summary>
    public void Processing(string upstream, Notification notification, System.Diagnostics.ActivityContext processing)
    {
        (_causeUpstream, _causeNotification, _causeContext, _cause) = (upstream, notification, processing, null);
    }

    /// <summary>The cause of events triggered now, made when the policy triggers its first (most events trigger nothing).</summary>
    private EventCause? Cause =>
        _cause ?? (_causeNotification is null ? null : _cause = new EventCause(_causeUpstream!, _causeNotification, _causeContext));

    /// <summary>Called by an aggregate as it triggers an event on this thread while a policy runs.</summary>
    public static void Triggered(DomainEvent domainEvent)
    {
        var scope = t_current;
        if (scope?.Cause is not { } cause) return;
        if (scope._causeOf is { } map)
        {
            map[domainEvent] = cause;
            return;
        }
        var causes = scope._causes ??= [];
        causes.Add((domainEvent, cause));
        if (causes.Count > ScanLimit)
        {
            scope._causeOf = new(ReferenceEqualityComparer.Instance);
            foreach (var (e, c) in causes) scope._causeOf[e] = c;
        }
    }

    /// <summary>The metadata to store with an event this step records: its cause's, or none.</summary>
    public EventMetadata? MetadataOf(DomainEvent domainEvent)
    {
        if (_causeOf is not null) return _causeOf.TryGetValue(domainEvent, out var cause) ? cause.Metadata : null;
        if (_causes is null) return null;
        // The newest entry wins, as a map's overwrite would.
        for (var i = _causes.Count - 1; i >= 0; i--)
            if (ReferenceEquals(_causes[i].Event, domainEvent)) return _causes[i].Cause.Metadata;
        return null;
    }

    public void Dispose()
    {
        if (t_current == this) t_current = _outer;
    }
}

/// <summary>
/// One upstream event as the cause of the events its policy records: their metadata (built once, on
/// first use) links them to it and carries its correlation id and trace on.
/// </summary>
internal sealed class EventCause(string upstream, Notification notification, System.Diagnostics.ActivityContext processing)
{
    private EventMetadata? _metadata;

    public EventMetadata Metadata => _metadata ??= Build();

    private EventMetadata Build()
    {
        var upstreamMetadata = notification.Metadata;
        var identity = upstream + ":" + notification.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        string? traceParent = upstreamMetadata?.TraceParent, traceState = upstreamMetadata?.TraceState;
        if (processing != default)
        {
            traceParent = "00-" + processing.TraceId.ToHexString() + "-" + processing.SpanId.ToHexString() +
                          ((processing.TraceFlags & System.Diagnostics.ActivityTraceFlags.Recorded) != 0 ? "-01" : "-00");
            traceState = processing.TraceState;
        }
        return new EventMetadata(traceParent, traceState, upstreamMetadata?.CorrelationId ?? identity, identity);
    }
}
