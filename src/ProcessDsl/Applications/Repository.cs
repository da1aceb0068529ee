namespace ProcessDsl;

/// <summary>
/// Gets an application's aggregates by id, reconstructed from their stored events. A bounded cache
/// keeps the events of recently used aggregates; every get still asks the store for anything newer,
/// and a failed or conflicting write never enters the cache, so a stale version is never served.
/// </summary>
public sealed class Repository
{
    private readonly Application _application;
    private readonly Dictionary<Guid, LinkedListNode<CacheEntry>> _index = [];
    private readonly LinkedList<CacheEntry> _recency = new();
    private readonly Lock _lock = new();

    private sealed record CacheEntry(Guid Id, IReadOnlyList<DomainEvent> Events);

    internal Repository(Application application)
    {
        _application = application;
    }

    internal int Capacity { get; set; } = 10_000;

    /// <summary>Gets an aggregate at its newest stored version (or as changed earlier in the current processing step).</summary>
    /// <exception cref="AggregateNotFoundException">No aggregate has this id.</exception>
    public T Get<T>(Guid id) where T : Aggregate, new()
    {
        var scope = ProcessingScope.Current;
        if (scope is not null && scope.Owner == _application && scope.TryGet(id, out var collected))
            return collected as T ?? throw WrongType<T>(id, collected);
        var events = Load(id);
        if (events.Count == 0) throw new AggregateNotFoundException(_application.Name, id);
        var aggregate = Aggregate.Reconstruct<T>(events);
        return aggregate;
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
        var cached = Cached(id);
        var newer = await _application.Store.ReadAggregateAsync(id, cached.Count, cancellationToken).ConfigureAwait(false);
        var events = Extend(id, cached, newer);
        if (events.Count == 0) throw new AggregateNotFoundException(_application.Name, id);
        return Aggregate.Reconstruct<T>(events);
    }

    /// <summary>Whether an aggregate with this id exists.</summary>
    public bool Contains(Guid id)
    {
        var scope = ProcessingScope.Current;
        if (scope is not null && scope.Owner == _application && scope.TryGet(id, out _)) return true;
        return Load(id).Count > 0;
    }

    /// <summary>Drops an aggregate from the cache.</summary>
    internal void Forget(Guid id)
    {
        lock (_lock)
        {
            if (_index.Remove(id, out var node)) _recency.Remove(node);
        }
    }

    /// <summary>Adds newly committed events to cached aggregates.</summary>
    internal void Remember(PendingEvents pending)
    {
        if (Capacity <= 0 || pending.DomainEvents.Count == 0) return;
        if (pending.Counts.Count == 1)
        {
            // One aggregate (the usual save): its events are the whole list, nothing to group.
            lock (_lock) Add(pending.DomainEvents[0].OriginatorId, pending.DomainEvents);
            return;
        }
        var byAggregate = new Dictionary<Guid, List<DomainEvent>>();
        foreach (var e in pending.DomainEvents)
        {
            if (!byAggregate.TryGetValue(e.OriginatorId, out var list)) byAggregate[e.OriginatorId] = list = [];
            list.Add(e);
        }
        lock (_lock)
        {
            foreach (var (id, added) in byAggregate) Add(id, added);
        }
    }

    private void Add(Guid id, IReadOnlyList<DomainEvent> added)
    {
        var cached = _index.TryGetValue(id, out var node) ? node.Value.Events : [];
        if (cached.Count + 1 == added[0].OriginatorVersion)
            Put(id, cached.Count == 0 ? added : [.. cached, .. added]);
        else if (node is not null)
        {
            _index.Remove(id);
            _recency.Remove(node);
        }
    }

    private IReadOnlyList<DomainEvent> Load(Guid id)
    {
        var cached = Cached(id);
        // Inside a processing step of this application, read through the step's transaction.
        var scope = ProcessingScope.Current;
        var newer = scope is not null && scope.Owner == _application
            ? scope.Step.ReadAggregate(id, cached.Count)
            : _application.Store.ReadAggregate(id, cached.Count);
        return Extend(id, cached, newer);
    }

    /// <summary>The cached events of an aggregate (none when not cached), marked as recently used.</summary>
    private IReadOnlyList<DomainEvent> Cached(Guid id)
    {
        lock (_lock)
        {
            if (!_index.TryGetValue(id, out var node)) return [];
            _recency.Remove(node);
            _recency.AddFirst(node);
            return node.Value.Events;
        }
    }

    /// <summary>The cached events followed by the newer stored ones, deserialised, and cached.</summary>
    private IReadOnlyList<DomainEvent> Extend(Guid id, IReadOnlyList<DomainEvent> cached, IReadOnlyList<Notification> newer)
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
        if (Capacity > 0)
            lock (_lock) Put(id, events);
        return events;
    }

    private void Put(Guid id, IReadOnlyList<DomainEvent> events)
    {
        if (_index.TryGetValue(id, out var existing))
        {
            if (existing.Value.Events.Count > events.Count) return;
            _recency.Remove(existing);
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
