using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ProcessDsl;

/// <summary>
/// An event-sourced application: it saves aggregates as events in its own application sequence,
/// gets them back through its <see cref="Repository"/>, presents its events as a
/// <see cref="NotificationLog"/>, and queries its projection rows with <see cref="Query{T}"/>.
/// </summary>
/// <remarks>
/// Applications have a parameterless constructor; a runner (or <see cref="Open"/>) connects them to
/// a store before use.
/// </remarks>
public abstract class Application
{
    private EventStore? _store;
    private NotificationLog? _log;

    /// <summary>Creates the application; it is usable once a runner or <see cref="Open"/> connects it.</summary>
    protected Application()
    {
        Repository = new Repository(this);
    }

    /// <summary>The application's name, also the stem of its table names. The class name by default.</summary>
    public virtual string Name => GetType().Name;

    /// <summary>Gets aggregates of this application by id.</summary>
    public Repository Repository { get; }

    /// <summary>This application's events as a notification log.</summary>
    public NotificationLog NotificationLog => _log ?? throw NotOpen();

    /// <summary>Logs what the application does.</summary>
    protected internal ILogger Logger { get; private set; } = NullLogger.Instance;

    internal EventStore Store => _store ?? throw NotOpen();

    internal bool IsOpen => _store is not null;

    /// <summary>Called after each successful save with the last notification id; runners use it to prompt followers.</summary>
    internal Action<Application, long>? Saved { get; set; }

    /// <summary>
    /// Connects this application to a store without a runner (a runner does this itself), creating
    /// its tables if needed.
    /// </summary>
    public Application Open(Persistence persistence, ApplicationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(persistence);
        options ??= new ApplicationOptions();
        var name = Identifiers.ValidateApplicationName(Name);
        _store = persistence.Store(name);
        _log = new NotificationLog(_store, options.SectionSize);
        Repository.Capacity = options.CacheCapacity;
        Logger = options.LoggerFactory?.CreateLogger("ProcessDsl." + name) ?? NullLogger.Instance;
        return this;
    }

    /// <summary>
    /// Saves the pending events of the given aggregates atomically: all or none are stored, each
    /// with the next notification id. Returns the last notification id assigned.
    /// </summary>
    /// <exception cref="ConcurrencyException">An aggregate was changed by someone else since it was read; nothing was stored.</exception>
    /// <exception cref="InvalidOperationException">Called from inside a policy (use <see cref="ProcessingEvent.Collect"/> there).</exception>
    public long Save(params Aggregate[] aggregates)
    {
        ArgumentNullException.ThrowIfNull(aggregates);
        ThrowIfInPolicy(nameof(Save));
        using var activity = ProcessDslTelemetry.StartSave(Name);
        var pending = PendingEvents.Of(aggregates);
        if (pending.Events.Count == 0) return 0;
        var last = Store.AppendSave(pending.Events);
        Committed(pending, last);
        return last;
    }

    /// <summary>
    /// Saves the pending events of an aggregate as <see cref="Save"/> does, without blocking the
    /// calling thread while the database works (on PostgreSQL the save's own I/O is asynchronous; a
    /// save that finds the writer busy awaits the transaction that carries it). For request threads.
    /// </summary>
    /// <param name="aggregate">The aggregate whose pending events to store.</param>
    /// <param name="cancellationToken">Gives up the save while it still waits its turn; once its transaction has started, its outcome is awaited.</param>
    /// <returns>The last notification id assigned (0 when there was nothing to save).</returns>
    /// <exception cref="ConcurrencyException">The aggregate was changed by someone else since it was read; nothing was stored.</exception>
    /// <exception cref="InvalidOperationException">Called from inside a policy (use <see cref="ProcessingEvent.Collect"/> there).</exception>
    public Task<long> SaveAsync(Aggregate aggregate, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(aggregate);
        return SaveAsync([aggregate], cancellationToken);
    }

    /// <summary>Saves the pending events of several aggregates atomically, as <see cref="Save"/> does, without blocking the calling thread.</summary>
    /// <param name="aggregates">The aggregates whose pending events to store, all or none.</param>
    /// <param name="cancellationToken">Gives up the save while it still waits its turn; once its transaction has started, its outcome is awaited.</param>
    /// <returns>The last notification id assigned (0 when there was nothing to save).</returns>
    /// <exception cref="ConcurrencyException">An aggregate was changed by someone else since it was read; nothing was stored.</exception>
    /// <exception cref="InvalidOperationException">Called from inside a policy (use <see cref="ProcessingEvent.Collect"/> there).</exception>
    public async Task<long> SaveAsync(IEnumerable<Aggregate> aggregates, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(aggregates);
        ThrowIfInPolicy(nameof(SaveAsync));
        using var activity = ProcessDslTelemetry.StartSave(Name);
        var pending = PendingEvents.Of(aggregates);
        if (pending.Events.Count == 0) return 0;
        var last = await Store.AppendSaveAsync(pending.Events, cancellationToken).ConfigureAwait(false);
        Committed(pending, last);
        return last;
    }

    /// <summary>A LINQ query over this application's rows of a LinqToDB-mapped type; the table is created if missing.</summary>
    /// <remarks>
    /// Inside a policy of this application the query runs in the processing step's transaction: it
    /// sees the rows the step saved or deleted so far, whatever the batch size.
    /// </remarks>
    public IQueryable<T> Query<T>() where T : class
    {
        var scope = ProcessingScope.Current;
        return scope is not null && scope.Owner == this ? scope.Step.Query<T>() : Store.Query<T>();
    }

    /// <summary>After a commit: forget pending events, refresh the cache, publish, prompt.</summary>
    internal void Committed(PendingEvents pending, long lastNotificationId)
    {
        foreach (var (aggregate, count) in pending.Counts) aggregate.MarkSaved(count);
        ProcessDslTelemetry.Recorded(Name, pending.Events.Count);
        Repository.Remember(pending, lastNotificationId);
        Subscriptions.Publish(pending.DomainEvents, Logger);
        if (pending.Events.Count > 0) Saved?.Invoke(this, lastNotificationId);
    }

    /// <summary>A command's save inside one of this application's policies would commit apart from the step.</summary>
    private void ThrowIfInPolicy(string call)
    {
        if (ProcessingScope.Current?.Owner == this)
            throw new InvalidOperationException(
                $"Application '{Name}': {call} was called inside a policy. Use processing.Collect(aggregate) so the new events commit with the tracking record.");
    }

    private InvalidOperationException NotOpen() =>
        new($"Application '{Name}' is not connected to a store: get it from a runner (runner.Get<{GetType().Name}>()) or call Open(persistence).");
}
