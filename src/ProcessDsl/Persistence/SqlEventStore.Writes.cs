using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace ProcessDsl;

/// <summary>The writer connection and what runs inside an append transaction.</summary>
internal sealed partial class SqlEventStore
{
    /// <summary>The provider returned null from <see cref="Persistence.AppendAtOnce"/>: appends run one statement at a time.</summary>
    private volatile bool _appendsOneByOne;

    /// <summary>
    /// Starts a processing step: takes the write lock and begins a transaction on the writer
    /// connection, which the step's reads, row writes and commit all use. Dispose it to roll back
    /// (and release the lock) unless <see cref="CommitStep"/> committed it.
    /// </summary>
    public override StepTransaction BeginStep()
    {
        _writeLock.Enter(WriteGate.Step);
        try
        {
            var db = Writer();
            try
            {
                db.Db.BeginTransaction();
            }
            catch (Exception ex) when (_persistence.Classify(ex, Tables) == StoreFault.BrokenConnection)
            {
                // The held connection was cut while idle: nothing was sent, so start again once.
                DropWriter();
                db = Writer();
                db.Db.BeginTransaction();
            }
            return new SqlStepTransaction(this, db);
        }
        catch
        {
            DropWriter();
            _writeLock.Exit();
            throw;
        }
    }

    /// <summary>
    /// Moves a position past events with no effect in a transaction of its own, through the
    /// provider's <see cref="Persistence.BeginPositionWrite"/>: on SQLite and PostgreSQL its commit
    /// does not wait for the disk (the next durable commit of the same database makes it durable too,
    /// as its log is written in order). It carries no queued save: those stay durable, in their own
    /// transaction or the next step's.
    /// </summary>
    public override void WritePosition(TrackingUpdate tracking)
    {
        ArgumentNullException.ThrowIfNull(tracking);
        using (_writeLock.Hold(WriteGate.Position))
        {
            Write((db, progress) =>
            {
                try
                {
                    _persistence.BeginPositionWrite(db);
                    try
                    {
                        AppendInTransaction(db, progress, [], tracking, parked: null);
                        progress.Committing = true;
                        _persistence.CommitTransaction(db.Db);
                    }
                    catch (Exception ex)
                    {
                        // As for any append: rolled back, and a racing first insert of the tracking row
                        // reported as the conflict it is, a failed COMMIT as an unknown outcome.
                        throw Failed(db, progress, ex, [], tracking);
                    }
                }
                finally
                {
                    // Back to the connection's own durability before anything else uses it; a
                    // connection that cannot be put back is not used again.
                    try
                    {
                        _persistence.EndPositionWrite(db);
                    }
                    catch
                    {
                        DropWriter();
                        throw;
                    }
                }
                return 0L;
            });
        }
    }

    /// <summary>Ends a step (after commit or rollback): releases the write lock, dropping the writer if it broke.</summary>
    internal void EndStep(bool dropWriter)
    {
        try
        {
            if (dropWriter) DropWriter();
        }
        finally
        {
            _writeLock.Exit();
        }
    }

    /// <summary>
    /// Commits a step: the commands' saves queued meanwhile come first (one flush for all; each keeps
    /// its own outcome), then the step's new events, its parked event, its tracking move (conditional
    /// on the position it started from) and its row changes.
    /// </summary>
    /// <returns>The last notification id given to the step's own events (0 when it has none).</returns>
    internal long CommitStep(SqlStepTransaction step, IReadOnlyList<NewEvent> events, TrackingUpdate? tracking, ParkedEvent? parked)
    {
        var db = step.Commands;
        var saves = _saves.IsEmpty ? [] : _saves.TakeQueued();
        var all = saves.Count == 0 ? events : GroupCommit.Events(saves, events);
        var progress = new WriteProgress { Sent = true };
        try
        {
            // A step that appends nothing moves its tracking in the rows' last round trip.
            var moved = step.FlushRows(all.Count == 0 && parked is null ? tracking : null);
            var last = AppendInTransaction(db, progress, all, moved ? null : tracking, parked);
            progress.Committing = true;
            var started = Stopwatch.GetTimestamp();
            _persistence.CommitTransaction(db.Db);
            step.Committed(Stopwatch.GetElapsedTime(started));
            if (saves.Count > 0)
            {
                GroupCommit.Completed(saves, last - events.Count);
                ProcessDslTelemetry.SavesCommitted(Application, saves.Count, WriteGate.Step);
            }
            return events.Count == 0 ? 0 : last;
        }
        catch (Exception ex)
        {
            step.Abandoned();
            var failure = Failed(db, progress, ex, all, tracking);
            foreach (var save in saves)
            {
                if (failure is CommitOutcomeUnknownException) save.Complete(0, new CommitOutcomeUnknownException(Application, ex));
                else CommitAlone(save);
            }
            if (ReferenceEquals(failure, ex)) ExceptionDispatchInfo.Throw(ex);
            throw failure;
        }
    }

    /// <summary>
    /// Inside an open transaction: moves tracking, parks, takes the append lock, reads the newest id
    /// and inserts the events after it. Returns the last id assigned (0 when there are no events).
    /// </summary>
    private long AppendInTransaction(StoreCommands db, WriteProgress progress, IReadOnlyList<NewEvent> events, TrackingUpdate? tracking, ParkedEvent? parked)
    {
        if (events.Count > 0 && TryAppendAtOnce(db, progress, events, tracking) is { } done)
        {
            // The provider moved tracking, locked, numbered and inserted in one round trip.
            progress.Sent = true;
            progress.FirstId = done.Newest + 1;
            if (tracking is not null && !done.TrackingMoved && !Statements.MovedFirst(db, tracking.Upstream, tracking.Expected, tracking.Position))
                throw new TrackingConflictException(Application, tracking.Upstream, tracking.Expected, Statements.StoredPosition(db, tracking.Upstream));
            if (parked is not null) Statements.Park(db, parked);
            return done.Newest + events.Count;
        }
        if (tracking is not null)
        {
            if (!Statements.MoveTracking(db, tracking.Upstream, tracking.Expected, tracking.Position))
                throw new TrackingConflictException(Application, tracking.Upstream, tracking.Expected, Statements.StoredPosition(db, tracking.Upstream));
            progress.Sent = true;
        }
        if (parked is not null) Statements.Park(db, parked);
        if (events.Count == 0) return 0;
        if (_appendLock is not null) db.Prepare(_appendLock).ExecuteNonQuery();
        progress.Sent = true; // from here on a failure is never retried on a fresh connection (see Write)
        var last = Statements.MaxNotificationId(db);
        progress.FirstId = last + 1;
        var stored = Stored(events, ref last);
        _persistence.InsertEvents(db, Tables, stored);
        _persistence.Appending(db, Application, last);
        return last;
    }

    /// <summary>
    /// Appends a group of commands' saves in a transaction of its own (under the write lock) with
    /// asynchronous I/O; what <see cref="Write{T}"/> and <see cref="AppendInTransaction"/> do, awaited.
    /// </summary>
    private async Task<long> AppendNowAsync(IReadOnlyList<NewEvent> events)
    {
        // A save in flight is not cancelled: once queued, its outcome is the group's.
        var none = CancellationToken.None;
        for (var attempt = 1; ; attempt++)
        {
            var held = _writer is not null;
            var db = Writer();
            var progress = new WriteProgress();
            try
            {
                if (_persistence.AppendsCommitted)
                {
                    try
                    {
                        return await _persistence.AppendCommittedAsync(db, Tables, Application, Unnumbered(events), progress, none).ConfigureAwait(false) + events.Count;
                    }
                    catch (Exception ex)
                    {
                        throw Failed(db, progress, ex, events, tracking: null);
                    }
                }
                await db.Db.BeginTransactionAsync(none).ConfigureAwait(false);
                try
                {
                    long last;
                    if (await TryAppendAtOnceAsync(db, progress, events).ConfigureAwait(false) is { } done)
                    {
                        progress.Sent = true;
                        progress.FirstId = done.Newest + 1;
                        last = done.Newest + events.Count;
                    }
                    else
                    {
                        if (_appendLock is not null) await db.Prepare(_appendLock).ExecuteNonQueryAsync(none).ConfigureAwait(false);
                        progress.Sent = true;
                        last = await Statements.MaxNotificationIdAsync(db, none).ConfigureAwait(false);
                        progress.FirstId = last + 1;
                        var stored = Stored(events, ref last);
                        await _persistence.InsertEventsAsync(db, Tables, stored, none).ConfigureAwait(false);
                        await _persistence.AppendingAsync(db, Application, last, none).ConfigureAwait(false);
                    }
                    progress.Committing = true;
                    await _persistence.CommitTransactionAsync(db.Db, none).ConfigureAwait(false);
                    return last;
                }
                catch (Exception ex)
                {
                    throw Failed(db, progress, ex, events, tracking: null);
                }
            }
            catch (Exception ex) when (ex is not (ConcurrencyException or TrackingConflictException))
            {
                DropWriter();
                if (attempt == 1 && held && !progress.Sent && _persistence.Classify(ex, Tables) == StoreFault.BrokenConnection) continue;
                throw;
            }
        }
    }

    /// <summary>The events to insert, for a provider that numbers them itself (<see cref="Persistence.AppendAtOnce"/>): ids 0.</summary>
    private static StoredEvent[] Unnumbered(IReadOnlyList<NewEvent> events)
    {
        var stored = new StoredEvent[events.Count];
        for (var i = 0; i < stored.Length; i++)
        {
            var e = events[i];
            stored[i] = new StoredEvent(0, e.OriginatorId, e.OriginatorVersion, e.Topic, e.State, e.Timestamp.UtcTicks, e.Version, e.Metadata?.ToJson());
        }
        return stored;
    }

    /// <summary>
    /// Appends through <see cref="Persistence.AppendAtOnce"/> when the provider does; null otherwise
    /// (asked once: a provider that returned null is not asked again by this store).
    /// </summary>
    private AppendedAtOnce? TryAppendAtOnce(StoreCommands db, WriteProgress progress, IReadOnlyList<NewEvent> events, TrackingUpdate? tracking)
    {
        if (_appendsOneByOne) return null;
        var done = _persistence.AppendAtOnce(db, Tables, Application, tracking, Unnumbered(events), progress);
        if (done is null) _appendsOneByOne = true;
        return done;
    }

    private async ValueTask<AppendedAtOnce?> TryAppendAtOnceAsync(StoreCommands db, WriteProgress progress, IReadOnlyList<NewEvent> events)
    {
        if (_appendsOneByOne) return null;
        var done = await _persistence.AppendAtOnceAsync(db, Tables, Application, Unnumbered(events), progress, CancellationToken.None).ConfigureAwait(false);
        if (done is null) _appendsOneByOne = true;
        return done;
    }

    /// <summary>The events to insert, given the ids after <paramref name="last"/>, which ends as the last id given.</summary>
    private static StoredEvent[] Stored(IReadOnlyList<NewEvent> events, ref long last)
    {
        var stored = new StoredEvent[events.Count];
        for (var i = 0; i < stored.Length; i++)
        {
            var e = events[i];
            stored[i] = new StoredEvent(++last, e.OriginatorId, e.OriginatorVersion, e.Topic, e.State, e.Timestamp.UtcTicks, e.Version, e.Metadata?.ToJson());
        }
        return stored;
    }

    /// <summary>
    /// After a failed append: rolls back what is still open (nothing, after a provider's
    /// <see cref="Persistence.AppendCommitted"/>) and says what the failure means: an unknown outcome
    /// once COMMIT was sent, or when the provider says so (<see cref="WriteProgress.OutcomeUnknown"/>);
    /// else what the database refused (<see cref="ExplainUniqueViolation"/>).
    /// </summary>
    private Exception Failed(StoreCommands db, WriteProgress progress, Exception ex, IReadOnlyList<NewEvent> events, TrackingUpdate? tracking)
    {
        Rollback(db);
        if (progress.Committing || progress.OutcomeUnknown) return new CommitOutcomeUnknownException(Application, ex);
        return _persistence.Classify(ex, Tables) is StoreFault.UniqueViolation or StoreFault.NotificationIdViolation
            ? ExplainUniqueViolation(db, events, tracking, progress.FirstId, ex)
            : ex;
    }

    /// <summary>
    /// Runs a write on the application's writer connection (opened on first use and kept). When the
    /// connection turns out to be broken (a server restart cut it while it was idle), the write is
    /// retried once on a fresh connection, but only if it failed before its first statement completed
    /// (<see cref="WriteProgress.Sent"/> still false): nothing of it can have been applied, so a retry
    /// cannot double anything. A failure after that, and above all a failure at COMMIT (whose outcome
    /// is unknown), is never retried here: it reaches the caller.
    /// </summary>
    private T Write<T>(Func<StoreCommands, WriteProgress, T> action)
    {
        for (var attempt = 1; ; attempt++)
        {
            var held = _writer is not null;
            var db = Writer();
            var progress = new WriteProgress();
            try
            {
                return action(db, progress);
            }
            catch (Exception ex) when (ex is not (ConcurrencyException or TrackingConflictException))
            {
                // The connection may be broken (a server restart, a lost file lock): start afresh.
                DropWriter();
                if (attempt == 1 && held && !progress.Sent && _persistence.Classify(ex, Tables) == StoreFault.BrokenConnection) continue;
                throw;
            }
        }
    }

    private StoreCommands Writer() => _writer ??= new StoreCommands(_persistence.OpenConnection(Application, StoreConnectionKind.Writer), _persistence.GuidParameterType);

    private void DropWriter()
    {
        var writer = _writer;
        _writer = null;
        try
        {
            writer?.Dispose();
        }
        catch (Exception)
        {
            // A broken connection may fail to close; it is gone either way.
        }
    }

    internal void Rollback(StoreCommands db)
    {
        if (db.Db.Transaction is null) return;
        try
        {
            db.Db.RollbackTransaction();
        }
        catch (Exception)
        {
            // The connection is already gone; the database discards the transaction itself.
            if (ReferenceEquals(db, _writer)) DropWriter();
        }
    }

    /// <summary>
    /// Says what a unique violation of an append means: a tracking conflict, a stale aggregate
    /// version (<see cref="ConcurrencyException"/>), or a notification id taken by someone else,
    /// which means the lock that serialises id assignment did not hold (never expected; an
    /// <see cref="InvalidOperationException"/> naming the application and the id). Any other
    /// violation (a projection row's own constraint) is returned as the database raised it.
    /// </summary>
    private Exception ExplainUniqueViolation(StoreCommands db, IReadOnlyList<NewEvent> events, TrackingUpdate? tracking, long firstId, Exception ex)
    {
        try
        {
            if (tracking is not null)
            {
                // No stored position is where a first step expects to start (0): not a conflict.
                var actual = Statements.StoredPosition(db, tracking.Upstream);
                if ((actual ?? 0) != tracking.Expected) return new TrackingConflictException(Application, tracking.Upstream, tracking.Expected, actual);
            }
            foreach (var e in events)
                if (Statements.IsVersionTaken(db, e.OriginatorId, e.OriginatorVersion))
                    return new ConcurrencyException(Application, e.OriginatorId, e.OriginatorVersion, ex);
            // Two new events of one aggregate version in the same transaction (saves grouped together).
            var versions = new HashSet<(Guid, long)>();
            foreach (var e in events)
                if (!versions.Add((e.OriginatorId, e.OriginatorVersion))) return new ConcurrencyException(Application, e.OriginatorId, e.OriginatorVersion, ex);
            if (events.Count > 0 && _persistence.Classify(ex, Tables) == StoreFault.NotificationIdViolation)
            {
                // The ids are known here unless the database numbered the events itself (AppendAtOnce).
                var lastId = firstId + events.Count - 1;
                var which = firstId > 0
                    ? $"notification id {Statements.MinIdIn(db, firstId, lastId) ?? firstId} was already taken when this append stored its events (ids {firstId}..{lastId})"
                    : $"a notification id was already taken when this append stored its {events.Count} event(s) after the newest";
                return new InvalidOperationException(
                    $"Application '{Application}': {which}: the lock that serialises id assignment did not hold. Another writer must have " +
                    $"inserted into {Tables.Events} without taking it (an older version of this library, or a hand-written insert). " +
                    "Nothing of this append was stored.", ex);
            }
        }
        catch (Exception lookup) when (lookup is not (TrackingConflictException or ConcurrencyException))
        {
            // The connection broke while looking: the original error says enough.
            DropWriter();
        }
        return ex;
    }
}
