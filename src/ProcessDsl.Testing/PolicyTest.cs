namespace ProcessDsl.Testing;

/// <summary>Creates <see cref="PolicyTest{TApp}"/>s.</summary>
public static class PolicyTest
{
    /// <summary>A test of <paramref name="application"/>'s policies for events of the upstream application named <paramref name="upstream"/>.</summary>
    public static PolicyTest<TApp> For<TApp>(TApp application, string upstream) where TApp : ProcessApplication =>
        new(application, upstream);
}

/// <summary>
/// Given upstream events, when a process application's policies run, then these new events and
/// these projection rows: the application runs on its own in-memory store (events as objects, rows
/// in a throwaway SQLite file), each given event processed exactly as a follower would (one step per
/// call, in one transaction, failures retried and then reported as <see cref="ProcessingException"/>).
/// Time comes from <see cref="Clock"/> while the test is alive.
/// </summary>
/// <typeparam name="TApp">The process application under test.</typeparam>
public sealed class PolicyTest<TApp> : IDisposable where TApp : ProcessApplication
{
    private readonly MemoryPersistence _store = Persistence.InMemory();
    private readonly UpstreamLog _upstream;
    private readonly Follower _follower;
    private readonly IDisposable _clockScope;
    private readonly Dictionary<Guid, long> _versions = [];

    internal PolicyTest(TApp application, string upstream)
    {
        ArgumentNullException.ThrowIfNull(application);
        Identifiers.ValidateApplicationName(upstream);
        Application = application;
        Upstream = upstream;
        application.Open(_store);
        _upstream = new UpstreamLog(upstream);
        _follower = new Follower(application, upstream, _upstream, new ProcessingOptions { PolicyAttempts = 1 });
        _clockScope = EventClock.Use(Clock);
    }

    /// <summary>The application under test (connected to the test's store: its repository and queries work).</summary>
    public TApp Application { get; }

    /// <summary>The upstream application's name the events seem to come from.</summary>
    public string Upstream { get; }

    /// <summary>The clock events are stamped with, starting at 2026-01-01 00:00 UTC; advance it at will.</summary>
    public ManualClock Clock { get; } = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    /// <summary>
    /// Processes upstream events, in order, as one batch. An event without an <see cref="DomainEvent.OriginatorId"/>
    /// gets a new one; an event without a version gets the next of its aggregate.
    /// </summary>
    /// <exception cref="ProcessingException">A policy threw; nothing of that step is stored.</exception>
    public PolicyTest<TApp> Given(params DomainEvent[] upstreamEvents)
    {
        ArgumentNullException.ThrowIfNull(upstreamEvents);
        foreach (var given in upstreamEvents)
        {
            ArgumentNullException.ThrowIfNull(given);
            var e = given.OriginatorId == Guid.Empty ? given with { OriginatorId = Guid.NewGuid() } : given;
            var version = e.OriginatorVersion > 0 ? e.OriginatorVersion : _versions.GetValueOrDefault(e.OriginatorId) + 1;
            _versions[e.OriginatorId] = version;
            e = e with { OriginatorVersion = version, Timestamp = e.Timestamp == default ? Clock.GetUtcNow() : e.Timestamp };
            var (topic, state) = EventTopics.Serialize(e);
            _upstream.Add(e.OriginatorId, version, topic, state, EventTopics.VersionOf(e.GetType()));
        }
        _follower.CatchUpAsync(CancellationToken.None).GetAwaiter().GetResult();
        return this;
    }

    /// <summary>Every event the application has recorded so far (its policies' collected aggregates), oldest first.</summary>
    public IReadOnlyList<DomainEvent> NewEvents =>
        [.. Application.NotificationLog.Select(0, int.MaxValue).Items.Select(EventTopics.Deserialize)];

    /// <summary>The application's rows of a projection type.</summary>
    public IReadOnlyList<T> Rows<T>() where T : class => [.. Application.Query<T>()];

    /// <inheritdoc/>
    public void Dispose()
    {
        _clockScope.Dispose();
        _store.Dispose();
    }

    /// <summary>The upstream log the given events are appended to.</summary>
    private sealed class UpstreamLog(string application) : INotificationLog
    {
        private readonly List<Notification> _items = [];

        public string Application { get; } = application;

        public int SectionSize => NotificationLog.DefaultSectionSize;

        public Section this[string sectionId] => throw new NotSupportedException("A policy test's upstream log is read by range only.");

        public void Add(Guid originator, long version, string topic, byte[] state, int eventVersion) =>
            _items.Add(new Notification(_items.Count + 1, originator, version, topic, state, eventVersion));

        public Task<Section> GetSectionAsync(string sectionId, CancellationToken cancellationToken = default) => Task.FromResult(this[sectionId]);

        public NotificationBatch Select(long after, int limit, IReadOnlySet<string>? topics = null)
        {
            var upTo = Math.Min(_items.Count, after + limit);
            var items = _items.Skip((int)after).Take((int)Math.Max(0, upTo - after)).Where(n => topics is null || topics.Contains(n.Topic)).ToList();
            return new NotificationBatch(items, Math.Max(after, upTo)) { IsEnd = upTo >= _items.Count };
        }

        public Task<NotificationBatch> SelectAsync(long after, int limit, IReadOnlySet<string>? topics = null, CancellationToken cancellationToken = default) =>
            Task.FromResult(Select(after, limit, topics));
    }
}

/// <summary>A clock that stands still until told to move.</summary>
public sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    /// <inheritdoc/>
    public override DateTimeOffset GetUtcNow() => _now;

    /// <summary>Moves the clock forward.</summary>
    public void Advance(TimeSpan by)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(by, TimeSpan.Zero);
        _now += by;
    }
}
