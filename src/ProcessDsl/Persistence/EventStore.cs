using System.Collections.Concurrent;
using LinqToDB;
using LinqToDB.Data;

namespace ProcessDsl;

/// <summary>
/// One application's tables: its events (the application sequence), its tracking records and the
/// rows of its projections. All writes go through one connection under one lock, in a transaction
/// that also takes the database's own lock, so notification ids are assigned contiguously in
/// commit order even with several processes writing.
/// </summary>
internal sealed class EventStore : IDisposable
{
    private readonly Persistence _persistence;
    private readonly Lock _writeLock = new();
    private readonly ConcurrentDictionary<Type, bool> _rowTables = new();
    private DataConnection? _writer;

    public EventStore(Persistence persistence, string application)
    {
        _persistence = persistence;
        Application = application;
        (EventsTable, TrackingTable) = persistence.TableNames(application);
        ReadOptions = persistence.ReadOptions(application);
        lock (_writeLock)
        {
            WithWriter((db, _) =>
            {
                persistence.CreateTables(db, EventsTable, TrackingTable);
                return 0;
            });
        }
    }

    public string Application { get; }

    public string EventsTable { get; }

    public string TrackingTable { get; }

    public DataOptions ReadOptions { get; }

    /// <summary>
    /// Stores new events, tracking moves and row changes in one transaction. Returns the last
    /// notification id assigned (the previous maximum when there were no events).
    /// </summary>
    /// <exception cref="ConcurrencyException">An aggregate version is already stored.</exception>
    /// <exception cref="TrackingConflictException">A tracking position is not the expected one.</exception>
    public long Append(IReadOnlyList<NewEvent> events, IReadOnlyList<TrackingUpdate>? tracking = null, IReadOnlyList<RowChange>? rows = null)
    {
        lock (_writeLock)
        {
            if (tracking is null || _queuedSaves.IsEmpty) return AppendNow(events, tracking, rows);

            // A processing step carries the commands' saves waiting behind it into its transaction,
            // so they share one disk flush. The saves' events come first.
            var saves = new List<QueuedSave>();
            while (saves.Count < MaxGroupedSaves && _queuedSaves.TryDequeue(out var queued)) saves.Add(queued);
            var combined = new List<NewEvent>();
            foreach (var save in saves) combined.AddRange(save.Events);
            combined.AddRange(events);
            long last;
            try
            {
                last = AppendNow(combined, tracking, rows);
            }
            catch
            {
                // Whoever failed, each save gets its own transaction and outcome, and so does the step.
                foreach (var save in saves) CommitAlone(save);
                return AppendNow(events, tracking, rows);
            }
            var remaining = combined.Count;
            foreach (var save in saves)
            {
                remaining -= save.Events.Count;
                save.Last = last - remaining;
                save.Complete();
            }
            return last;
        }
    }

    private long AppendNow(IReadOnlyList<NewEvent> events, IReadOnlyList<TrackingUpdate>? tracking, IReadOnlyList<RowChange>? rows)
    {
        lock (_writeLock)
        {
            if (rows is { Count: > 0 }) EnsureRowTables(rows);
            long firstId = 0;
            return WithWriter((db, progress) =>
            {
                var transaction = db.BeginTransaction();
                try
                {
                    _persistence.LockForAppend(db, EventsTable);
                    progress.Sent = true; // from here on a failure is never retried (see WithWriter)
                    if (tracking is not null)
                        foreach (var update in tracking) MoveTracking(db, update);
                    var last = MaxNotificationId(db);
                    firstId = last + 1;
                    if (events.Count > 0) last = InsertEvents(db, events, last);
                    if (rows is not null)
                        foreach (var row in rows) row.Apply(db);
                    if (events.Count > 0) _persistence.Appending(db, Application, last);
                    transaction.Commit();
                    return last;
                }
                catch (Exception ex) when (_persistence.IsUniqueViolation(ex))
                {
                    Rollback(transaction);
                    throw ExplainUniqueViolation(events, tracking, firstId, ex);
                }
                catch
                {
                    Rollback(transaction);
                    throw;
                }
                finally
                {
                    transaction.Dispose();
                }
            });
        }
    }

    /// <summary>
    /// Stores the events of one save, committed together with the saves of other threads that are
    /// waiting at the same moment (group commit): while one transaction is being made durable, the
    /// saves arriving meanwhile queue up and go into the next one, so many concurrent callers share
    /// one disk flush. Each save keeps its own outcome: if one of a group conflicts, the group is
    /// retried one save per transaction, so only the conflicting save fails.
    /// </summary>
    /// <returns>The last notification id assigned to this save's events.</returns>
    /// <exception cref="ConcurrencyException">An aggregate version of this save is already stored.</exception>
    public long AppendSave(IReadOnlyList<NewEvent> events)
    {
        var save = new QueuedSave(events);
        _queuedSaves.Enqueue(save);
        while (!save.Done)
        {
            // One caller at a time leads: it commits what is queued until its own save is in.
            // The others sleep on their own save rather than spin on the lock through a disk
            // flush, and look again after a moment in case the leader left before their turn.
            if (_writeLock.TryEnter())
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
        if (save.Error is not null) global::System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(save.Error);
        return save.Last;
    }

    private const int MaxGroupedSaves = 256;
    private readonly ConcurrentQueue<QueuedSave> _queuedSaves = new();

    private sealed class QueuedSave(IReadOnlyList<NewEvent> events)
    {
        private readonly ManualResetEventSlim _done = new(false, spinCount: 1);

        public IReadOnlyList<NewEvent> Events { get; } = events;
        public long Last { get; set; }
        public Exception? Error { get; set; }
        public bool Done => _done.IsSet;

        /// <summary>Publishes the outcome (set before) and wakes the caller.</summary>
        public void Complete() => _done.Set();

        public void Wait(TimeSpan timeout) => _done.Wait(timeout);
    }

    private void CommitQueuedSaves()
    {
        var group = new List<QueuedSave>();
        while (group.Count < MaxGroupedSaves && _queuedSaves.TryDequeue(out var queued)) group.Add(queued);
        if (group.Count == 0) return;
        if (group.Count == 1)
        {
            CommitAlone(group[0]);
            return;
        }
        var all = new List<NewEvent>();
        foreach (var queued in group) all.AddRange(queued.Events);
        try
        {
            var last = AppendNow(all, null, null);
            var remaining = all.Count;
            foreach (var queued in group)
            {
                remaining -= queued.Events.Count;
                queued.Last = last - remaining;
                queued.Complete();
            }
        }
        catch (ConcurrencyException)
        {
            // Someone in the group is stale: give each save its own transaction and outcome.
            foreach (var queued in group) CommitAlone(queued);
        }
        catch (Exception ex)
        {
            foreach (var queued in group)
            {
                queued.Error = ex;
                queued.Complete();
            }
        }
    }

    private void CommitAlone(QueuedSave save)
    {
        try
        {
            save.Last = AppendNow(save.Events, null, null);
        }
        catch (Exception ex)
        {
            save.Error = ex;
        }
        save.Complete();
    }

    private static readonly BulkCopyOptions s_multipleRows = new() { BulkCopyType = BulkCopyType.MultipleRows, UseParameters = true };

    /// <summary>Inserts events with the ids after <paramref name="last"/>; returns the last id used.</summary>
    private long InsertEvents(DataConnection db, IReadOnlyList<NewEvent> events, long last)
    {
        var records = new EventRecord[events.Count];
        for (var i = 0; i < records.Length; i++)
        {
            var e = events[i];
            records[i] = new EventRecord
            {
                NotificationId = ++last,
                OriginatorId = e.OriginatorId,
                OriginatorVersion = e.OriginatorVersion,
                Topic = e.Topic,
                State = e.State,
                Timestamp = e.Timestamp.UtcTicks,
            };
        }
        if (records.Length == 1)
            db.Insert(records[0], tableName: EventsTable);
        else
            // Multi-row INSERT statements, every value a parameter (LinqToDB splits them to the
            // provider's parameter limit). Measured against a hand-built statement text reused with
            // DataParameters: that was four times slower on SQLite (1,200 named parameters bound one
            // lookup at a time), so LinqToDB's bulk copy stays.
            db.GetTable<EventRecord>().TableName(EventsTable).BulkCopy(s_multipleRows, records);
        return last;
    }

    /// <summary>Notifications with ids in (after, upTo], optionally only the given topics.</summary>
    public IReadOnlyList<Notification> ReadRange(long after, long upTo, IReadOnlySet<string>? topics)
    {
        if (topics is { Count: 0 }) return [];
        using var db = new DataConnection(ReadOptions);
        return ReadRange(db, after, upTo, topics);
    }

    /// <summary>
    /// Up to <paramref name="limit"/> ids after <paramref name="after"/>, bounded by the newest id
    /// read first, over one connection. Everything up to that newest id is committed (ids become
    /// visible in commit order), so the range below it is complete whatever the filter keeps.
    /// </summary>
    /// <returns>The notifications kept and the last id covered.</returns>
    public (IReadOnlyList<Notification> Items, long UpTo) ReadAfter(long after, int limit, IReadOnlySet<string>? topics)
    {
        using var db = new DataConnection(ReadOptions);
        var max = MaxNotificationId(db);
        if (max <= after) return ([], after);
        var upTo = Math.Min(max, after > long.MaxValue - limit ? long.MaxValue : after + limit);
        return (topics is { Count: 0 } ? [] : ReadRange(db, after, upTo, topics), upTo);
    }

    private Notification[] ReadRange(DataConnection db, long after, long upTo, IReadOnlySet<string>? topics)
    {
        var records = RangeQuery(db, after, upTo, topics).ToList();
        var result = new Notification[records.Count];
        for (var i = 0; i < result.Length; i++) result[i] = records[i].ToNotification();
        return result;
    }

    /// <summary>The range read: one query on the notification id (the primary key), never a scan.</summary>
    internal IQueryable<EventRecord> RangeQuery(IDataContext db, long after, long upTo, IReadOnlySet<string>? topics)
    {
        var query = db.GetTable<EventRecord>().TableName(EventsTable)
            .Where(r => r.NotificationId > after && r.NotificationId <= upTo);
        if (topics is not null)
        {
            var list = topics.ToArray();
            query = query.Where(r => list.Contains(r.Topic));
        }
        return query.OrderBy(r => r.NotificationId);
    }

    /// <summary>The newest notification id (0 when empty).</summary>
    public long MaxNotificationId()
    {
        using var db = new DataConnection(ReadOptions);
        return MaxNotificationId(db);
    }

    /// <summary>An aggregate's stored events after a version, oldest first.</summary>
    public IReadOnlyList<Notification> ReadAggregate(Guid id, long afterVersion)
    {
        using var db = new DataConnection(ReadOptions);
        return AggregateQuery(db, id, afterVersion).ToList().ConvertAll(r => r.ToNotification());
    }

    /// <summary>An aggregate's events: one query on the (originator id, version) unique index.</summary>
    internal IQueryable<EventRecord> AggregateQuery(IDataContext db, Guid id, long afterVersion) =>
        db.GetTable<EventRecord>().TableName(EventsTable)
            .Where(r => r.OriginatorId == id && r.OriginatorVersion > afterVersion)
            .OrderBy(r => r.OriginatorVersion);

    /// <summary>The stored tracking position for an upstream application (0 when none).</summary>
    public long Position(string upstream)
    {
        using var db = new DataConnection(ReadOptions);
        return StoredPosition(db, upstream) ?? 0;
    }

    /// <summary>Every stored tracking position.</summary>
    public IReadOnlyDictionary<string, long> Positions()
    {
        using var db = new DataConnection(ReadOptions);
        return db.GetTable<TrackingRecord>().TableName(TrackingTable)
            .ToDictionary(t => t.UpstreamApplication, t => t.Position, StringComparer.Ordinal);
    }

    /// <summary>A query over a user's mapped rows, its table created if missing.</summary>
    public IQueryable<T> Query<T>() where T : class
    {
        EnsureRowTable<T>();
        var context = new DataContext(ReadOptions);
        return context.GetTable<T>();
    }

    /// <summary>Creates the table of a mapped row type if this store has not yet done so.</summary>
    public void EnsureRowTable<T>() where T : class
    {
        if (_rowTables.ContainsKey(typeof(T))) return;
        lock (_writeLock)
        {
            WithWriter((db, progress) =>
            {
                _persistence.CreateRowTable(db, progress, static db => db.CreateTable<T>(tableOptions: TableOptions.CreateIfNotExists));
                return 0;
            });
            _rowTables[typeof(T)] = true;
        }
    }

    public void Dispose()
    {
        lock (_writeLock)
        {
            _writer?.Dispose();
            _writer = null;
        }
    }

    private void EnsureRowTables(IReadOnlyList<RowChange> rows)
    {
        // Tables are created outside the step's transaction, so a rolled-back step never leaves
        // this cache believing in a table that does not exist.
        foreach (var row in rows)
        {
            if (_rowTables.ContainsKey(row.RowType)) continue;
            WithWriter((db, progress) =>
            {
                _persistence.CreateRowTable(db, progress, row.EnsureTable);
                return 0;
            });
            _rowTables[row.RowType] = true;
        }
    }

    /// <summary>
    /// Runs a write on the application's writer connection (opened on first use and kept). When the
    /// connection turns out to be broken (a server restart cut it while it was idle), the write is
    /// retried once on a fresh connection, but only if it failed before its first statement completed
    /// (<see cref="WriteProgress.Sent"/> still false): nothing of it can have been applied, so a retry
    /// cannot double anything. A failure after that, and above all a failure at COMMIT (whose outcome
    /// is unknown), is never retried here: it reaches the caller.
    /// </summary>
    private T WithWriter<T>(Func<DataConnection, WriteProgress, T> action)
    {
        for (var attempt = 1; ; attempt++)
        {
            var held = _writer is not null;
            _writer ??= _persistence.OpenWriter(Application);
            var progress = new WriteProgress();
            try
            {
                return action(_writer, progress);
            }
            catch (Exception ex) when (ex is not (ConcurrencyException or TrackingConflictException))
            {
                // The connection may be broken (a server restart, a lost file lock): start afresh.
                _writer.Dispose();
                _writer = null;
                if (attempt == 1 && held && !progress.Sent && _persistence.IsBrokenConnection(ex)) continue;
                throw;
            }
        }
    }

    private void MoveTracking(DataConnection db, TrackingUpdate update)
    {
        var table = db.GetTable<TrackingRecord>().TableName(TrackingTable);
        var updated = table
            .Where(t => t.UpstreamApplication == update.Upstream && t.Position == update.Expected)
            .Set(t => t.Position, update.Position)
            .Update();
        if (updated == 1) return;
        var actual = StoredPosition(db, update.Upstream);
        if (actual is null && update.Expected == 0)
        {
            db.Insert(new TrackingRecord { UpstreamApplication = update.Upstream, Position = update.Position }, tableName: TrackingTable);
            return;
        }
        throw new TrackingConflictException(Application, update.Upstream, update.Expected, actual);
    }

    private long? StoredPosition(DataConnection db, string upstream) =>
        db.GetTable<TrackingRecord>().TableName(TrackingTable)
            .Where(t => t.UpstreamApplication == upstream)
            .Select(t => (long?)t.Position)
            .FirstOrDefault();

    private long MaxNotificationId(DataConnection db) =>
        db.GetTable<EventRecord>().TableName(EventsTable).Max(r => (long?)r.NotificationId) ?? 0;

    /// <summary>
    /// Says what a unique violation of an append means: a tracking conflict, a stale aggregate
    /// version (<see cref="ConcurrencyException"/>), or a notification id taken by someone else,
    /// which means the lock that serialises id assignment did not hold (never expected; an
    /// <see cref="InvalidOperationException"/> naming the application and the id). Any other
    /// violation (a projection row's own constraint) is returned as the database raised it.
    /// </summary>
    private Exception ExplainUniqueViolation(IReadOnlyList<NewEvent> events, IReadOnlyList<TrackingUpdate>? tracking, long firstId, Exception ex)
    {
        using var db = new DataConnection(ReadOptions);
        if (tracking is not null)
        {
            foreach (var update in tracking)
            {
                var actual = StoredPosition(db, update.Upstream);
                if (actual != update.Expected) return new TrackingConflictException(Application, update.Upstream, update.Expected, actual);
            }
        }
        foreach (var e in events)
        {
            var taken = db.GetTable<EventRecord>().TableName(EventsTable)
                .Any(r => r.OriginatorId == e.OriginatorId && r.OriginatorVersion == e.OriginatorVersion);
            if (taken) return new ConcurrencyException(Application, e.OriginatorId, e.OriginatorVersion, ex);
        }
        // Two new events of one aggregate version in the same transaction (saves grouped together).
        var versions = new HashSet<(Guid, long)>();
        foreach (var e in events)
            if (!versions.Add((e.OriginatorId, e.OriginatorVersion))) return new ConcurrencyException(Application, e.OriginatorId, e.OriginatorVersion, ex);
        if (events.Count > 0 && firstId > 0)
        {
            var lastId = firstId + events.Count - 1;
            if (_persistence.IsNotificationIdViolation(ex, EventsTable))
            {
                var id = db.GetTable<EventRecord>().TableName(EventsTable)
                    .Where(r => r.NotificationId >= firstId && r.NotificationId <= lastId)
                    .Min(r => (long?)r.NotificationId) ?? firstId;
                return new InvalidOperationException(
                    $"Application '{Application}': notification id {id} was already taken when this append stored its events " +
                    $"(ids {firstId}..{lastId}): the lock that serialises id assignment did not hold. Another writer must have " +
                    $"inserted into {EventsTable} without taking it (an older version of this library, or a hand-written insert). " +
                    "Nothing of this append was stored.", ex);
            }
        }
        return ex;
    }

    /// <summary>How far a write got: whether its first statement completed (see <see cref="WithWriter{T}"/>).</summary>
    internal sealed class WriteProgress
    {
        public bool Sent { get; set; }
    }

    private static void Rollback(DataConnectionTransaction transaction)
    {
        try
        {
            transaction.Rollback();
        }
        catch (Exception)
        {
            // The connection is already gone; the database discards the transaction itself.
        }
    }
}
