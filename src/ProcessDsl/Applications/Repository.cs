namespace ProcessDsl;

/// <summary>
/// Gets an application's aggregates by id, reconstructed from their stored events. A bounded cache
/// keeps the events of recently used aggregates; a get asks the store for anything newer, and a
/// failed or conflicting write never enters the cache, so a stale version is never served.
/// </summary>
/// <remarks>
/// Inside a processing step a cached aggregate is served without asking the store when the cache is
/// known to hold every event of the application's log up to its newest id: the cache tracks the
/// highest id up to which every id is one this application instance committed (and so remembered),
/// and the step reads the log's newest id once, in its own transaction. When the log is ahead (a
/// commit not yet remembered, another process or instance wrote, a commit's outcome was unknown),
/// the step reads the events in between once, brings the cached aggregates forward and caches the
/// aggregates those events created (their whole history is among them); when it is
/// far ahead (or at the first step), the cache is emptied and filled with the aggregates created in
/// the newest of those events. What a step then reads is what a
/// read at that moment would have returned; a write based on it that raced a later commit
/// conflicts at the step's commit, as before.
/// </remarks>
public sealed class Repository
{
    private readonly Application _application;
    private readonly Dictionary<Guid, LinkedListNode<CacheEntry>> _index = [];
    private readonly LinkedList<CacheEntry> _recency = new();
    private readonly Lock _lock = new();
    // Every event with an id up to _current is in the cache (for the aggregates it holds); -1: unknown.
    private long _current = -1;
    // Commits remembered out of order above _current: first id -> last id.
    private readonly SortedDictionary<long, long> _ahead = [];
    // Changed on every change of what the cache holds, so a read that raced one does not put older events back.
    private long _generation;

    /// <summary>The most commits remembered out of order before the cache gives up tracking them (and is emptied at the next step).</summary>
    private const int MaxAhead = 1024;

    /// <summary>The most events a step reads to bring the cache forward; further behind, the cache is emptied instead.</summary>
    private const int MaxCatchUp = 10_000;

    /// <summary>An aggregate's cached events; the list is replaced (never changed in place) under the lock, so a reader's list stays as it was.</summary>
    private sealed class CacheEntry(Guid id, IReadOnlyList<DomainEvent> events)
    {
        public Guid Id { get; } = id;

        public IReadOnlyList<DomainEvent> Events { get; set; } = events;
    }

    internal Repository(Application application)
    {
        _application = application;
    }

    internal int Capacity { get; set; } = 10_000;

    private long _storeReads;

    /// <summary>How many times this repository asked the store for an aggregate's events (for tests).</summary>
    internal long StoreReads => Interlocked.Read(ref _storeReads);

    /// <summary>Gets an aggregate at its newest stored version (or as changed earlier in the current processing step).</summary>
    /// <exception cref="AggregateNotFoundException">No aggregate has this id.</exception>
    public T Get<T>(Guid id) where T : Aggregate, new()
    {
        var scope = ProcessingScope.Current;
        if (scope is not null && scope.Owner == _application && scope.TryGet(id, out var collected))
            return collected as T ?? throw WrongType<T>(id, collected);
        var events = scope is not null && scope.Owner == _application && CachedInStep(scope, id) is { } current ? current : Load(id);
        if (events.Count == 0) throw new AggregateNotFoundException(_application.Name, id);
        var aggregate = Aggregate.Reconstruct<T>(events);
        return aggregate;
    }

    /// <summary>
    /// Inside a step: an aggregate's cached events when the cache is current (the step asks the log's
    /// newest id once); null when it must be read. Empties a cache found behind the log.
    /// </summary>
    private IReadOnlyList<DomainEvent>? CachedInStep(ProcessingScope scope, Guid id)
    {
        if (Capacity <= 0) return null;
        if (!scope.CacheChecked)
        {
            scope.CacheChecked = true;
            var newest = scope.Step.MaxNotificationId();
            long current;
            lock (_lock) current = _current;
            if (newest > current && (current < 0 || newest - current > MaxCatchUp))
            {
                // Unknown (the first step) or far behind: start again empty, which holds every event of
                // what it holds up to any id, from the newest MaxCatchUp events, so that the aggregates
                // they created (a command process's new orders, say) come with one read.
                lock (_lock)
                    if (_current == current) Empty(current = Math.Max(0, newest - MaxCatchUp));
            }
            if (current >= 0 && newest > current && newest - current <= MaxCatchUp)
            {
                // Committed meanwhile, by this instance (not yet remembered) or another writer: read once.
                var between = scope.Step.ReadRange(current, newest);
                lock (_lock)
                    if (_current == current && between.Count == newest - current && BringForward(between))
                    {
                        _current = newest;
                        FollowAhead();
                    }
            }
            lock (_lock)
            {
                if (_current != newest) Empty(newest);
            }
        }
        lock (_lock) return Touch(id);
    }

    /// <summary>Empties the cache, which then holds every event of what it holds up to <paramref name="current"/> (under the lock).</summary>
    private void Empty(long current)
    {
        _index.Clear();
        _recency.Clear();
        _ahead.Clear();
        _current = current;
        _generation++;
    }

    /// <summary>An aggregate's cached events, marked as recently used; null when not cached (under the lock).</summary>
    private IReadOnlyList<DomainEvent>? Touch(Guid id)
    {
        if (!_index.TryGetValue(id, out var node)) return null;
        _recency.Remove(node);
        _recency.AddFirst(node);
        return node.Value.Events;
    }

    /// <summary>
    /// Gets an aggregate at its newest stored version, as <see cref="Get{T}"/> does, without blocking
    /// the calling thread while the database reads (asynchronous I/O on PostgreSQL). For request threads;
    /// inside a policy, use <see cref="Get{T}"/>.
    /// </summary>
    /// <exception cref="AggregateNotFoundException">No aggregate has this id.</exception>
    public async Task<T> GetAsync<T>(Guid id, CancellationToken cancellationToken = default) where T : Aggregate, new()
    {
        var scope = ProcessingScope.Current;
        if (scope is not null && scope.Owner == _application) return Get<T>(id); // the step's own transaction is synchronous
        var (cached, generation) = Cached(id);
        Interlocked.Increment(ref _storeReads);
        var newer = await _application.Store.ReadAggregateAsync(id, cached.Count, cancellationToken).ConfigureAwait(false);
        var events = Extend(id, cached, newer, generation);
        if (events.Count == 0) throw new AggregateNotFoundException(_application.Name, id);
        return Aggregate.Reconstruct<T>(events);
    }

    /// <summary>Whether an aggregate with this id exists.</summary>
    public bool Contains(Guid id)
    {
        var scope = ProcessingScope.Current;
        if (scope is not null && scope.Owner == _application && (scope.TryGet(id, out _) || CachedInStep(scope, id) is { Count: > 0 })) return true;
        return Load(id).Count > 0;
    }

    /// <summary>Adds newly committed events (the last given <paramref name="lastNotificationId"/>) to cached aggregates.</summary>
    internal void Remember(PendingEvents pending, long lastNotificationId)
    {
        if (Capacity <= 0 || pending.DomainEvents.Count == 0) return;
        var firstId = lastNotificationId - pending.DomainEvents.Count + 1;
        if (pending.Counts.Count == 1)
        {
            // One aggregate (the usual save): its events are the whole list, nothing to group.
            lock (_lock)
            {
                Add(pending.DomainEvents[0].OriginatorId, pending.DomainEvents);
                Committed(firstId, lastNotificationId);
            }
            return;
        }
        // Each aggregate's events stand together in the list, in the order of Counts (see
        // PendingEvents.Of): cut it into one array per aggregate, no map or growing lists needed.
        var groups = new DomainEvent[pending.Counts.Count][];
        var offset = 0;
        for (var i = 0; i < groups.Length; i++)
        {
            var count = pending.Counts[i].Count;
            var group = groups[i] = new DomainEvent[count];
            pending.DomainEvents.CopyTo(offset, group, 0, count);
            offset += count;
        }
        lock (_lock)
        {
            foreach (var added in groups) Add(added[0].OriginatorId, added);
            Committed(firstId, lastNotificationId);
        }
    }

    /// <summary>
    /// Adds stored events (ids contiguous after <see cref="_current"/>) to the cached aggregates they
    /// belong to, and caches the aggregates they create (under the lock); false when an event of a
    /// cached aggregate cannot be read, and the cache is then emptied.
    /// </summary>
    private bool BringForward(IReadOnlyList<Notification> notifications)
    {
        foreach (var notification in notifications)
        {
            if (!_index.TryGetValue(notification.OriginatorId, out var node))
            {
                // Created in between (by another instance, say the process that takes the commands):
                // its whole history is in these events, so it is cached from them, not read later.
                if (notification.OriginatorVersion == 1 && TryDeserialize(notification) is { } created)
                    Put(notification.OriginatorId, [created]);
                continue;
            }
            var cached = node.Value.Events;
            if (notification.OriginatorVersion <= cached.Count) continue;
            if (TryDeserialize(notification) is not { } domainEvent)
                return false;   // the get of that aggregate reports it, in this application's words
            if (notification.OriginatorVersion != cached.Count + 1)
            {
                _index.Remove(notification.OriginatorId);
                _recency.Remove(node);
                continue;
            }
            node.Value.Events = [.. cached, domainEvent];
        }
        _generation++;
        return true;
    }

    /// <summary>A stored event deserialised; null when it cannot be (a later get of its aggregate reads it and reports why).</summary>
    private static DomainEvent? TryDeserialize(Notification notification)
    {
        try
        {
            return EventTopics.Deserialize(notification);
        }
        catch (EventDeserializationException)
        {
            return null;
        }
    }

    /// <summary>Moves <see cref="_current"/> on through commits remembered out of order, dropping those it covers (under the lock).</summary>
    private void FollowAhead()
    {
        while (_ahead.Count > 0)
        {
            var (first, last) = _ahead.First();
            if (first > _current + 1) return;
            _ahead.Remove(first);
            if (last > _current) _current = last;
        }
    }

    /// <summary>Moves the id up to which the cache is complete past a commit's ids (under the lock).</summary>
    private void Committed(long first, long last)
    {
        _generation++;
        if (_current < 0) return;
        if (first == _current + 1)
        {
            _current = last;
            FollowAhead();
        }
        else if (first > _current + 1 && _ahead.Count < MaxAhead) _ahead[first] = last;
        else if (first > _current + 1) _current = -1;   // too many gaps: the next step starts again
        // first <= _current: ids given again cannot happen for committed events; nothing to move.
    }

    private void Add(Guid id, IReadOnlyList<DomainEvent> added)
    {
        var cached = _index.TryGetValue(id, out var node) ? node.Value.Events : [];
        var first = added[0].OriginatorVersion;
        if (node is not null && first <= cached.Count && first + added.Count - 1 <= cached.Count)
            return;   // already brought forward from the store by a step
        if (cached.Count + 1 == first)
            Put(id, cached.Count == 0 ? added : [.. cached, .. added]);
        else if (node is not null)
        {
            _index.Remove(id);
            _recency.Remove(node);
        }
    }

    private IReadOnlyList<DomainEvent> Load(Guid id)
    {
        var (cached, generation) = Cached(id);
        Interlocked.Increment(ref _storeReads);
        // Inside a processing step of this application, read through the step's transaction.
        var scope = ProcessingScope.Current;
        var newer = scope is not null && scope.Owner == _application
            ? scope.Step.ReadAggregate(id, cached.Count)
            : _application.Store.ReadAggregate(id, cached.Count);
        return Extend(id, cached, newer, generation);
    }

    /// <summary>The cached events of an aggregate (none when not cached), marked as recently used, and the cache's generation.</summary>
    private (IReadOnlyList<DomainEvent> Events, long Generation) Cached(Guid id)
    {
        lock (_lock) return (Touch(id) ?? [], _generation);
    }

    /// <summary>The cached events followed by the newer stored ones, deserialised, and cached.</summary>
    private IReadOnlyList<DomainEvent> Extend(Guid id, IReadOnlyList<DomainEvent> cached, IReadOnlyList<Notification> newer, long generation)
    {
        if (newer.Count == 0) return cached;
        var events = new List<DomainEvent>(cached.Count + newer.Count);
        events.AddRange(cached);
        foreach (var notification in newer)
        {
            try
            {
                events.Add(EventTopics.Deserialize(notification));
            }
            catch (EventDeserializationException ex)
            {
                throw ex.InApplication(_application.Name);
            }
        }
        // A read that raced a commit or an emptying may hold fewer events than the cache must: not kept.
        if (Capacity > 0)
            lock (_lock)
                if (_generation == generation) Put(id, events);
        return events;
    }

    private void Put(Guid id, IReadOnlyList<DomainEvent> events)
    {
        if (_index.TryGetValue(id, out var existing))
        {
            if (existing.Value.Events.Count > events.Count) return;
            // The same node, moved to the front with the longer list.
            _recency.Remove(existing);
            existing.Value.Events = events;
            _recency.AddFirst(existing);
            return;
        }
        _index[id] = _recency.AddFirst(new CacheEntry(id, events));
        while (_index.Count > Capacity && _recency.Last is { } oldest)
        {
            _recency.RemoveLast();
            _index.Remove(oldest.Value.Id);
        }
    }

    private InvalidOperationException WrongType<T>(Guid id, Aggregate found) =>
        new($"Aggregate {id} in application '{_application.Name}' is a {found.GetType().Name}, not a {typeof(T).Name}.");
}
