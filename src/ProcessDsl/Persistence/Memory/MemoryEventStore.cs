namespace ProcessDsl;

/// <summary>
/// An application's events, tracking and parked events as plain objects (see <see cref="MemoryPersistence"/>).
/// One lock serialises writers and steps; a step holds it from its first read to its commit, its
/// projection rows go to the application's row database in a transaction committed just before
/// the events and the position are published.
/// </summary>
internal sealed class MemoryEventStore(MemoryPersistence persistence, string application, Func<MemoryRows> rows) : EventStore
{
    private readonly Lock _lock = new();
    private readonly List<Notification> _events = [];
    private readonly Dictionary<Guid, List<Notification>> _byAggregate = [];
    private readonly Dictionary<string, long> _tracking = new(StringComparer.Ordinal);
    private readonly SortedDictionary<(string Upstream, long Id), ParkedEvent> _parked = [];
    private MemoryRows? _rows;

    public override string Application { get; } = application;

    public override Persistence Persistence => persistence;

    /// <summary>The application's row database, opened on first use (only projections need one).</summary>
    internal MemoryRows Rows
    {
        get
        {
            if (_rows is { } opened) return opened;
            lock (_lock) return _rows ??= rows();
        }
    }

    internal Lock WriteLock => _lock;

    public override bool IsTransient(Exception exception) =>
        exception is TrackingConflictException or ConcurrencyException || (_rows?.IsTransient(exception) ?? false);

    public override IReadOnlyList<Notification> ReadRange(long after, long upTo, IReadOnlyList<string>? topics)
    {
        lock (_lock) return Range(after, Math.Min(upTo, _events.Count), topics);
    }

    public override (IReadOnlyList<Notification> Items, long UpTo, bool IsEnd) ReadAfter(long after, int limit, IReadOnlyList<string>? topics)
    {
        lock (_lock)
        {
            long max = _events.Count;
            if (max <= after) return ([], after, true);
            var upTo = Math.Min(max, after > long.MaxValue - limit ? long.MaxValue : after + limit);
            return (Range(after, upTo, topics), upTo, upTo == max);
        }
    }

    public override long MaxNotificationId()
    {
        lock (_lock) return _events.Count;
    }

    public override IReadOnlyList<Notification> ReadAggregate(Guid id, long afterVersion)
    {
        lock (_lock)
        {
            if (!_byAggregate.TryGetValue(id, out var events) || events.Count <= afterVersion) return [];
            return events.GetRange((int)afterVersion, events.Count - (int)afterVersion);
        }
    }

    public override long Position(string upstream)
    {
        lock (_lock) return _tracking.GetValueOrDefault(upstream);
    }

    public override IReadOnlyDictionary<string, long> Positions()
    {
        lock (_lock) return new Dictionary<string, long>(_tracking, StringComparer.Ordinal);
    }

    public override IReadOnlyList<ParkedEvent> Parked()
    {
        lock (_lock) return [.. _parked.Values];
    }

    public override IQueryable<T> Query<T>() => Rows.Query<T>(_lock);

    public override void EnsureRowTable<T>() => Rows.EnsureRowTable<T>(_lock);

    public override long AppendSave(IReadOnlyList<NewEvent> events)
    {
        lock (_lock)
        {
            Check(events);
            return Publish(events);
        }
    }

    public override StepTransaction BeginStep()
    {
        _lock.Enter();
        return new MemoryStepTransaction(this);
    }

    /// <summary>A new event of a version that is not the next of its aggregate is a stale write.</summary>
    internal void Check(IReadOnlyList<NewEvent> events)
    {
        // A save or a step writes a few events: the earlier ones of the same aggregate are found by
        // looking back; a map only for long lists.
        Dictionary<Guid, long>? next = events.Count > 16 ? [] : null;
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            long expected;
            if (next is not null) expected = next.TryGetValue(e.OriginatorId, out var n) ? n : StoredCount(e.OriginatorId) + 1;
            else
            {
                var j = i - 1;
                while (j >= 0 && events[j].OriginatorId != e.OriginatorId) j--;
                expected = j >= 0 ? events[j].OriginatorVersion + 1 : StoredCount(e.OriginatorId) + 1;
            }
            if (e.OriginatorVersion != expected) throw new ConcurrencyException(Application, e.OriginatorId, e.OriginatorVersion);
            if (next is not null) next[e.OriginatorId] = expected + 1;
        }
    }

    private long StoredCount(Guid id) => _byAggregate.TryGetValue(id, out var stored) ? stored.Count : 0;

    internal void CheckTracking(TrackingUpdate tracking)
    {
        var stored = _tracking.TryGetValue(tracking.Upstream, out var position) ? position : (long?)null;
        if ((stored ?? 0) != tracking.Expected) throw new TrackingConflictException(Application, tracking.Upstream, tracking.Expected, stored);
    }

    internal void Move(TrackingUpdate tracking) => _tracking[tracking.Upstream] = tracking.Position;

    internal bool IsParked(string upstream, long id) => _parked.ContainsKey((upstream, id));

    internal void Park(ParkedEvent parked) => _parked[(parked.Upstream, parked.NotificationId)] = parked;

    internal void Unpark(string upstream, long id) => _parked.Remove((upstream, id));

    /// <summary>Gives the events the next ids and makes them visible; returns the last id (0 when none).</summary>
    internal long Publish(IReadOnlyList<NewEvent> events)
    {
        if (events.Count == 0) return 0;
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            var notification = new Notification(_events.Count + 1, e.OriginatorId, e.OriginatorVersion, e.Topic, e.State, e.Version, e.Metadata);
            _events.Add(notification);
            if (!_byAggregate.TryGetValue(e.OriginatorId, out var list)) _byAggregate[e.OriginatorId] = list = [];
            list.Add(notification);
        }
        return _events.Count;
    }

    public override void Dispose()
    {
        lock (_lock) _rows?.Dispose();
    }

    private Notification[] Range(long after, long upTo, IReadOnlyList<string>? topics)
    {
        if (upTo <= after || topics is { Count: 0 }) return [];
        if (topics is null) return System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_events)[(int)after..(int)upTo].ToArray();
        var kept = 0;
        for (var i = (int)after; i < upTo; i++)
            if (Contains(topics, _events[i].Topic)) kept++;
        if (kept == 0) return [];
        var result = new Notification[kept];
        kept = 0;
        for (var i = (int)after; i < upTo; i++)
        {
            var n = _events[i];
            if (Contains(topics, n.Topic)) result[kept++] = n;
        }
        return result;
    }

    private static bool Contains(IReadOnlyList<string> topics, string topic)
    {
        for (var i = 0; i < topics.Count; i++)
            if (string.Equals(topics[i], topic, StringComparison.Ordinal)) return true;
        return false;
    }
}

/// <summary>A step of a <see cref="MemoryEventStore"/>: holds its lock; rows in a transaction of the row database.</summary>
internal sealed class MemoryStepTransaction(MemoryEventStore store) : StepTransaction
{
    private MemoryRows.Step? _rows;
    private List<long>? _unparked;
    private string? _unparkedUpstream;

    private MemoryRows.Step Rows => _rows ??= store.Rows.Begin();

    public override IReadOnlyList<Notification> ReadAggregate(Guid id, long afterVersion) => store.ReadAggregate(id, afterVersion);

    public override long MaxNotificationId() => store.MaxNotificationId();

    public override IReadOnlyList<Notification> ReadRange(long after, long upTo) => store.ReadRange(after, upTo, null);

    public override IQueryable<T> Query<T>() => Rows.Query<T>();

    public override void Add(RowChange row) => Rows.Add(row);

    internal override void FlushRows() => _rows?.FlushRows();

    public override bool Unpark(string upstream, long notificationId)
    {
        if (!store.IsParked(upstream, notificationId)) return false;
        _unparkedUpstream = upstream;
        (_unparked ??= []).Add(notificationId);
        return true;
    }

    public override long Commit(IReadOnlyList<NewEvent> events, TrackingUpdate? tracking, ParkedEvent? parked = null)
    {
        // Everything that can refuse is checked first; then the rows commit; then the rest, which
        // cannot fail, is published under the same lock.
        if (tracking is not null) store.CheckTracking(tracking);
        store.Check(events);
        _rows?.Commit();
        if (tracking is not null) store.Move(tracking);
        if (parked is not null) store.Park(parked);
        if (_unparked is not null)
            foreach (var id in _unparked) store.Unpark(_unparkedUpstream!, id);
        return store.Publish(events);
    }

    public override void Dispose()
    {
        try
        {
            _rows?.Dispose();
        }
        finally
        {
            store.WriteLock.Exit();
        }
    }
}
