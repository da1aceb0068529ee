using LinqToDB;

namespace ProcessDsl;

/// <summary>
/// One application's events (the application sequence), tracking positions, parked events and
/// projection rows, as the applications, the notification log and the followers use them. Two
/// kinds: <see cref="SqlEventStore"/> for the database providers and <see cref="MemoryEventStore"/>
/// for <see cref="Persistence.InMemory"/>. Both keep every guarantee: contiguous ids in commit
/// order, one atomic step, stale versions and tracking conflicts detected.
/// </summary>
internal abstract class EventStore : IDisposable
{
    /// <summary>The application whose store this is.</summary>
    public abstract string Application { get; }

    /// <summary>The store that made this one.</summary>
    public abstract Persistence Persistence { get; }

    /// <summary>Options for a connection of one's own to the application's database (tests, tools).</summary>
    internal virtual DataOptions ReadOptions => throw new NotSupportedException($"The store of '{Application}' is not a database.");

    /// <summary>Whether an exception is a passing fault of this store (or a conflict, which passes by retrying).</summary>
    public abstract bool IsTransient(Exception exception);

    /// <summary>Notifications with ids in (after, upTo], optionally only the given topics.</summary>
    public abstract IReadOnlyList<Notification> ReadRange(long after, long upTo, IReadOnlyList<string>? topics);

    /// <summary>
    /// Up to <paramref name="limit"/> ids after <paramref name="after"/>, bounded by the newest id:
    /// the notifications kept, the last id covered, and whether that was the newest.
    /// </summary>
    public abstract (IReadOnlyList<Notification> Items, long UpTo, bool IsEnd) ReadAfter(long after, int limit, IReadOnlyList<string>? topics);

    /// <summary>The newest notification id (0 when empty).</summary>
    public abstract long MaxNotificationId();

    /// <summary>An aggregate's stored events after a version, oldest first.</summary>
    public abstract IReadOnlyList<Notification> ReadAggregate(Guid id, long afterVersion);

    /// <summary>An aggregate's stored events after a version, without blocking a thread where the store does I/O.</summary>
    public virtual ValueTask<IReadOnlyList<Notification>> ReadAggregateAsync(Guid id, long afterVersion, CancellationToken cancellationToken) =>
        new(ReadAggregate(id, afterVersion));

    /// <summary>The stored tracking position for an upstream application (0 when none).</summary>
    public abstract long Position(string upstream);

    /// <summary>Every stored tracking position.</summary>
    public abstract IReadOnlyDictionary<string, long> Positions();

    /// <summary>The events this application's followers parked.</summary>
    public abstract IReadOnlyList<ParkedEvent> Parked();

    /// <summary>A query over a user's mapped rows, its table created if missing.</summary>
    public abstract IQueryable<T> Query<T>() where T : class;

    /// <summary>Creates the table of a mapped row type if this store has not yet done so.</summary>
    public abstract void EnsureRowTable<T>() where T : class;

    /// <summary>Stores the events of one command's save atomically; returns the last notification id given.</summary>
    /// <exception cref="ConcurrencyException">An aggregate version is already stored; nothing was.</exception>
    /// <exception cref="CommitOutcomeUnknownException">The commit failed with its outcome unknown.</exception>
    public abstract long AppendSave(IReadOnlyList<NewEvent> events);

    /// <summary>As <see cref="AppendSave"/>, without blocking a thread where the store does I/O.</summary>
    /// <remarks>Cancellation gives up only a save not yet taken into a transaction; once taken, its outcome is awaited.</remarks>
    public virtual ValueTask<long> AppendSaveAsync(IReadOnlyList<NewEvent> events, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return new(AppendSave(events));
    }

    /// <summary>Starts a processing step: one unit of work until it commits or is disposed (rolled back).</summary>
    public abstract StepTransaction BeginStep();

    /// <summary>
    /// Moves a tracking position past upstream events that had no effect (topics no policy handles),
    /// conditional on the position it replaces, in a transaction of its own that writes nothing else.
    /// A database store may commit it without waiting for the disk: lost in a power cut, the position
    /// is only that much further back, and those events are read and passed over again.
    /// </summary>
    /// <exception cref="TrackingConflictException">The stored position is not <see cref="TrackingUpdate.Expected"/>; nothing was written.</exception>
    public virtual void WritePosition(TrackingUpdate tracking)
    {
        using var step = BeginStep();
        step.Commit([], tracking);
    }

    /// <inheritdoc/>
    public abstract void Dispose();
}

/// <summary>
/// One processing step as one unit of work. Everything a policy reads inside the step goes through
/// it (aggregates, projection rows), so the step reads its own writes; its row changes, new events,
/// tracking move (conditional on the position it started from) and parked event commit together.
/// Disposed without commit, it rolls back whole: nothing of a failed step is ever stored.
/// </summary>
internal abstract class StepTransaction : IDisposable
{
    /// <summary>An aggregate's stored events after a version, read inside the step.</summary>
    public abstract IReadOnlyList<Notification> ReadAggregate(Guid id, long afterVersion);

    /// <summary>A query over mapped rows inside the step: the step's own saves and deletes so far are in it.</summary>
    public abstract IQueryable<T> Query<T>() where T : class;

    /// <summary>The newest notification id of the application's log, read inside the step (0 when empty).</summary>
    public abstract long MaxNotificationId();

    /// <summary>The application's notifications with ids in (after, upTo], read inside the step.</summary>
    public abstract IReadOnlyList<Notification> ReadRange(long after, long upTo);

    /// <summary>Adds a row change; it is written before the next query in the step, or at commit.</summary>
    public abstract void Add(RowChange row);

    /// <summary>Writes the row changes added since the last flush, in order.</summary>
    internal abstract void FlushRows();

    /// <summary>Deletes a parked record inside the step; false when it was not there (another retry took it).</summary>
    public abstract bool Unpark(string upstream, long notificationId);

    /// <summary>Commits the step; returns the last notification id given to its own events (0 when none).</summary>
    /// <exception cref="TrackingConflictException">The tracking position is no longer the expected one; nothing was stored.</exception>
    public abstract long Commit(IReadOnlyList<NewEvent> events, TrackingUpdate? tracking, ParkedEvent? parked = null);

    /// <summary>
    /// How long the database took to make the step's commit durable (the <c>COMMIT</c> alone, not the
    /// writes before it); <see cref="TimeSpan.Zero"/> before the commit and for a store with no such cost.
    /// </summary>
    public TimeSpan DurableCommitTime { get; protected set; }

    /// <summary>Rolls back unless committed, and releases the application's writer.</summary>
    public abstract void Dispose();
}
