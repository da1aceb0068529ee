using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using LinqToDB;
using LinqToDB.Data;

namespace ProcessDsl;

/// <summary>
/// One application's tables: its events (the application sequence), its tracking records, its
/// parked events and the rows of its projections. Every write goes through one held writer
/// connection under one lock, in a transaction that also takes the provider's append lock, so
/// notification ids are assigned contiguously in commit order even with several processes writing.
/// Commands' saves are committed together (<see cref="GroupCommit"/>); a processing step is one
/// transaction on the same connection from its first read to its commit (<see cref="StepTransaction"/>).
/// </summary>
internal sealed partial class SqlEventStore : EventStore
{
    private readonly Persistence _persistence;
    private readonly WriteGate _writeLock;
    private readonly GroupCommit _saves = new();
    private readonly ReaderPool _readers;
    private readonly ConcurrentDictionary<Type, bool> _rowTables = new();
    private readonly string? _appendLock;
    private StoreCommands? _writer;

    public SqlEventStore(Persistence persistence, string application)
    {
        _persistence = persistence;
        Application = application;
        _writeLock = new WriteGate(application);
        Tables = persistence.TablesOf(application);
        Statements = new EventStatements(Tables);
        _appendLock = persistence.AppendLockSql(Tables);
        _readers = new ReaderPool(persistence, application, Tables);
        using (_writeLock.Hold(WriteGate.Schema))
        {
            // Idempotent (IF NOT EXISTS), so safe to retry on a fresh connection whatever got through.
            Write((db, _) =>
            {
                persistence.CreateTables(db.Db, Tables);
                return 0L;
            });
        }
    }

    public override string Application { get; }

    public StoreTables Tables { get; }

    public override Persistence Persistence => _persistence;

    internal EventStatements Statements { get; }

    /// <summary>Options for a connection of one's own to the application's database (tests, tools).</summary>
    internal override DataOptions ReadOptions => _persistence.QueryOptions(Application);

    /// <summary>Whether an exception is a passing fault of this store (or a conflict, which passes by retrying).</summary>
    public override bool IsTransient(Exception exception) =>
        exception is TrackingConflictException or ConcurrencyException or CommitOutcomeUnknownException || _persistence.IsTransient(exception, Tables);

    // ---- Reads, on held reader connections ----

    /// <summary>Notifications with ids in (after, upTo], optionally only the given topics.</summary>
    public override IReadOnlyList<Notification> ReadRange(long after, long upTo, IReadOnlyList<string>? topics) =>
        topics is { Count: 0 } ? [] : _readers.Read((Statements, after, upTo, topics), static (db, s) => s.Statements.ReadRange(db, s.after, s.upTo, s.topics));

    /// <summary>
    /// Up to <paramref name="limit"/> ids after <paramref name="after"/>, bounded by the newest id
    /// read first, over one connection. Everything up to that newest id is committed (ids become
    /// visible in commit order), so the range below it is complete whatever the filter keeps.
    /// </summary>
    /// <returns>The notifications kept, the last id covered, and whether that was the newest.</returns>
    public override (IReadOnlyList<Notification> Items, long UpTo, bool IsEnd) ReadAfter(long after, int limit, IReadOnlyList<string>? topics) =>
        _readers.Read<(EventStatements Statements, long After, int Limit, IReadOnlyList<string>? Topics), (IReadOnlyList<Notification>, long, bool)>(
            (Statements, after, limit, topics),
            static (db, s) =>
            {
                var max = s.Statements.MaxNotificationId(db);
                if (max <= s.After) return ([], s.After, true);
                var upTo = Math.Min(max, s.After > long.MaxValue - s.Limit ? long.MaxValue : s.After + s.Limit);
                return (s.Topics is { Count: 0 } ? [] : s.Statements.ReadRange(db, s.After, upTo, s.Topics), upTo, upTo == max);
            });

    /// <summary>The newest notification id (0 when empty).</summary>
    public override long MaxNotificationId() => _readers.Read(Statements, static (db, statements) => statements.MaxNotificationId(db));

    /// <summary>An aggregate's stored events after a version, oldest first.</summary>
    public override IReadOnlyList<Notification> ReadAggregate(Guid id, long afterVersion) =>
        _readers.Read((Statements, id, afterVersion), static (db, s) => s.Statements.ReadAggregate(db, s.id, s.afterVersion));

    /// <summary>An aggregate's stored events after a version, read without blocking a thread while the database works.</summary>
    public override ValueTask<IReadOnlyList<Notification>> ReadAggregateAsync(Guid id, long afterVersion, CancellationToken cancellationToken) =>
        _readers.ReadAsync<IReadOnlyList<Notification>>(async db => await Statements.ReadAggregateAsync(db, id, afterVersion, cancellationToken).ConfigureAwait(false));

    /// <summary>The stored tracking position for an upstream application (0 when none).</summary>
    public override long Position(string upstream) => _readers.Read(db => Statements.StoredPosition(db, upstream)) ?? 0;

    /// <summary>Every stored tracking position.</summary>
    public override IReadOnlyDictionary<string, long> Positions() => _readers.Read(Statements.Positions);

    /// <summary>The events this application's followers parked.</summary>
    public override IReadOnlyList<ParkedEvent> Parked() => _readers.Read(db => Statements.Parked(db, Application));

    /// <summary>A query over a user's mapped rows, its table created if missing.</summary>
    public override IQueryable<T> Query<T>() where T : class
    {
        EnsureRowTable<T>();
        var context = new DataContext(_persistence.QueryOptions(Application));
        return context.GetTable<T>();
    }

    /// <summary>Creates the table of a mapped row type if this store has not yet done so.</summary>
    public override void EnsureRowTable<T>() where T : class
    {
        if (_rowTables.ContainsKey(typeof(T))) return;
        using (_writeLock.Hold(WriteGate.Schema))
        {
            // Idempotent (IF NOT EXISTS), so safe to retry on a fresh connection whatever got through.
            Write((db, _) =>
            {
                db.Db.BeginTransaction();
                try
                {
                    _persistence.CreateRowTable(db.Db, RowTables.Create<T>);
                    _persistence.CommitTransaction(db.Db);
                }
                catch
                {
                    Rollback(db);
                    throw;
                }
                return 0L;
            });
            _rowTables[typeof(T)] = true;
        }
    }

    internal bool KnowsRowTable(Type type) => _rowTables.ContainsKey(type);

    internal void RowTablesCommitted(IEnumerable<Type> types)
    {
        foreach (var type in types) _rowTables[type] = true;
    }

    // ---- Commands' saves (group commit) ----

    /// <summary>
    /// Stores the events of one save, committed together with the saves of other threads that are
    /// waiting at the same moment, or carried into a processing step's transaction. Each save keeps
    /// its own outcome: if one of a group conflicts, the group is retried one save per transaction.
    /// </summary>
    /// <returns>The last notification id assigned to this save's events.</returns>
    /// <exception cref="ConcurrencyException">An aggregate version of this save is already stored; nothing of it was.</exception>
    /// <exception cref="CommitOutcomeUnknownException">The commit failed with its outcome unknown.</exception>
    public override long AppendSave(IReadOnlyList<NewEvent> events)
    {
        var save = _saves.Enqueue(events);
        while (!save.Done)
        {
            // One caller at a time leads: it commits what is queued until its own save is in. The
            // others sleep on their own save rather than spin on the lock through a disk flush (or a
            // processing step, which carries them into its transaction), and look again after a
            // moment in case the leader left before their turn.
            if (_writeLock.TryEnter(WriteGate.Saves))
            {
                try
                {
                    while (!save.Done) CommitQueuedSaves();
                }
                finally
                {
                    _writeLock.Exit();
                }
            }
            else
            {
                save.Wait(TimeSpan.FromMilliseconds(2));
            }
        }
        if (save.Error is not null) ExceptionDispatchInfo.Throw(save.Error);
        return save.Last;
    }

    /// <summary>
    /// <see cref="AppendSave"/> without blocking a thread: a save that finds the writer busy waits for
    /// its outcome asynchronously (the writer's current transaction, or a processing step's, carries
    /// it); one that finds it free leads, with asynchronous I/O on the held writer connection.
    /// </summary>
    public override async ValueTask<long> AppendSaveAsync(IReadOnlyList<NewEvent> events, CancellationToken cancellationToken)
    {
        var save = _saves.Enqueue(events);
        while (!save.Done)
        {
            if (_writeLock.TryEnter(WriteGate.Saves))
            {
                try
                {
                    while (!save.Done) await CommitQueuedSavesAsync().ConfigureAwait(false);
                }
                finally
                {
                    _writeLock.Exit();
                }
            }
            else
            {
                // Queued, it may already be in a transaction: it is only given up on before that.
                await save.WaitAsync(TimeSpan.FromMilliseconds(2)).ConfigureAwait(false);
                if (!save.Done && cancellationToken.IsCancellationRequested && _saves.TryWithdraw(save))
                    cancellationToken.ThrowIfCancellationRequested();
            }
        }
        if (save.Error is not null) ExceptionDispatchInfo.Throw(save.Error);
        return save.Last;
    }

    private async Task CommitQueuedSavesAsync()
    {
        var group = _saves.TakeQueued();
        if (group.Count == 0) return;
        try
        {
            GroupCommit.Completed(group, await AppendNowAsync(GroupCommit.Events(group)).ConfigureAwait(false));
            ProcessDslTelemetry.SavesCommitted(Application, group.Count, WriteGate.Saves);
        }
        catch (ConcurrencyException) when (group.Count > 1)
        {
            // Someone in the group is stale: give each save its own transaction and outcome.
            foreach (var queued in group) await CommitAloneAsync(queued).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            foreach (var queued in group) queued.Complete(0, ex);
        }
    }

    private async Task CommitAloneAsync(QueuedSave save)
    {
        try
        {
            save.Complete(await AppendNowAsync(save.Events).ConfigureAwait(false), null);
            ProcessDslTelemetry.SavesCommitted(Application, 1, WriteGate.Saves);
        }
        catch (Exception ex)
        {
            save.Complete(0, ex);
        }
    }

    private void CommitQueuedSaves()
    {
        var group = _saves.TakeQueued();
        if (group.Count == 0) return;
        if (group.Count == 1)
        {
            CommitAlone(group[0]);
            return;
        }
        try
        {
            GroupCommit.Completed(group, AppendNow(GroupCommit.Events(group)));
            ProcessDslTelemetry.SavesCommitted(Application, group.Count, WriteGate.Saves);
        }
        catch (ConcurrencyException)
        {
            // Someone in the group is stale: give each save its own transaction and outcome.
            foreach (var queued in group) CommitAlone(queued);
        }
        catch (Exception ex)
        {
            foreach (var queued in group) queued.Complete(0, ex);
        }
    }

    private void CommitAlone(QueuedSave save)
    {
        try
        {
            save.Complete(AppendNow(save.Events), null);
            ProcessDslTelemetry.SavesCommitted(Application, 1, WriteGate.Saves);
        }
        catch (Exception ex)
        {
            save.Complete(0, ex);
        }
    }

    /// <summary>Appends events in a transaction of their own (under the write lock).</summary>
    private long AppendNow(IReadOnlyList<NewEvent> events) => _persistence.AppendsCommitted ? AppendCommittedNow(events) : Write((db, progress) =>
    {
        db.Db.BeginTransaction();
        try
        {
            var last = AppendInTransaction(db, progress, events, tracking: null, parked: null);
            progress.Committing = true;
            _persistence.CommitTransaction(db.Db);
            return last;
        }
        catch (Exception ex)
        {
            throw Failed(db, progress, ex, events, tracking: null);
        }
    });

    /// <summary>
    /// <see cref="AppendNow"/> on a provider that sends the transaction with the append
    /// (<see cref="Persistence.AppendsCommitted"/>): one round trip.
    /// </summary>
    private long AppendCommittedNow(IReadOnlyList<NewEvent> events) => Write((db, progress) =>
    {
        try
        {
            return _persistence.AppendCommitted(db, Tables, Application, Unnumbered(events), progress) + events.Count;
        }
        catch (Exception ex)
        {
            throw Failed(db, progress, ex, events, tracking: null);
        }
    });

    public override void Dispose()
    {
        using (_writeLock.Hold(WriteGate.Close)) DropWriter();
        _readers.Dispose();
    }
}

/// <summary>
/// The write lock of an application's store: held by one processing step or one leading save at a
/// time. Not bound to a thread, so an asynchronous save can hold it across its awaits.
/// </summary>
internal sealed class WriteGate(string application)
{
    /// <summary>Holders, as the <c>holder</c> tag of <c>processdsl.writer.held</c>.</summary>
    public const string Step = "step", Saves = "saves", Position = "position", Schema = "schema", Close = "close";

    private readonly SemaphoreSlim _gate = new(1, 1);
    // Written by the holder only, after it entered and before it exits.
    private string _holder = "";
    private long _entered;

    public void Enter(string holder)
    {
        _gate.Wait();
        Entered(holder);
    }

    public bool TryEnter(string holder)
    {
        if (!_gate.Wait(0)) return false;
        Entered(holder);
        return true;
    }

    public void Exit()
    {
        // Read before the gate opens: the next holder overwrites them.
        var entered = _entered;
        var holder = _holder;
        _gate.Release();
        if (entered != 0) ProcessDslTelemetry.WriterHeld(application, holder, System.Diagnostics.Stopwatch.GetElapsedTime(entered));
    }

    /// <summary>Enters; disposing the result exits.</summary>
    public Held Hold(string holder)
    {
        Enter(holder);
        return new Held(this);
    }

    private void Entered(string holder)
    {
        _holder = holder;
        _entered = ProcessDslTelemetry.MeasuresWriter ? System.Diagnostics.Stopwatch.GetTimestamp() : 0;
    }

    /// <summary>The gate, held until disposed.</summary>
    public readonly struct Held(WriteGate gate) : IDisposable
    {
        public void Dispose() => gate.Exit();
    }
}

/// <summary>Creates projection row tables through LinqToDB's mapping.</summary>
internal static class RowTables
{
    public static void Create<T>(DataConnection db) where T : class =>
        db.CreateTable<T>(tableOptions: TableOptions.CreateIfNotExists);
}
