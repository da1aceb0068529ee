using ProcessDsl.Postgres.Tests.Shop;
using ProcessDsl.Postgres.Tests.Support;

namespace ProcessDsl.Postgres.Tests;

/// <summary>
/// On PostgreSQL every append (a command's save, asynchronous or not, and a processing step's
/// commit) goes to the server as one batch before its commit, through the provider's
/// <c>AppendAtOnce</c>, never statement by statement; on SQLite, whose provider appends statement by
/// statement, the store asks once and then inserts as before.
/// </summary>
public sealed class AppendRoundTripTests
{
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(60);

    [Theory, SqliteStore, PostgresStore]
    public async Task Saves_and_steps_append_at_once_where_the_provider_can_and_one_by_one_where_it_cannot(string kind)
    {
        using var test = TestStore.Create(kind);
        using var store = new AppendCounter(test.Open());
        await using var runner = new SingleThreadedRunner(ShopSystem.Definition, store);
        await runner.StartAsync();
        var shop = runner.Get<Shop.Shop>();

        var sold = shop.Stock(items: 3, tags: 2);                    // three saves, each sold: three receipts in Tills' steps
        var item = Item.List("async");
        item.Sell();
        await shop.SaveAsync(item);                                   // an asynchronous save, then one more step
        await runner.WaitUntilIdleAsync(Idle);

        var tills = runner.Get<Tills>();
        Assert.Equal(4, tills.NotificationLog.MaxNotificationId);     // one receipt per sale, ids 1..4 without gaps
        Assert.Equal(sold.Count * 4 + 2, shop.NotificationLog.MaxNotificationId);
        Assert.Equal([1L, 2L, 3L, 4L], tills.NotificationLog.Select(0, 10).Items.Select(n => n.Id));
        if (test.IsPostgres)
        {
            Assert.Equal(0, store.InsertedOneByOne);
            Assert.Equal(0, store.PromptedOneByOne);
            Assert.True(store.AtOnce("Shop") >= 3, $"the shop's saves appended at once {store.AtOnce("Shop")} times");
            Assert.True(store.AtOnce("Tills") >= 1, $"the tills' steps appended at once {store.AtOnce("Tills")} times");
            Assert.Equal(1, store.AtOnceAsync);
        }
        else
        {
            // SQLite says no once per application and is not asked again.
            Assert.Equal(1, store.AtOnce("Shop"));
            Assert.Equal(1, store.AtOnce("Tills"));
            Assert.Equal(0, store.AtOnceAsync);
            Assert.True(store.InsertedOneByOne >= 8, $"inserted one by one {store.InsertedOneByOne} times");
        }
    }

    [Theory, SqliteStore, PostgresStore]
    public async Task A_wrapper_keeps_a_saves_single_round_trip_only_when_it_says_so(string kind)
    {
        using var test = TestStore.Create(kind);
        using var plain = new CommittedCounter(test.Open(), keepsRoundTrip: false);
        using var keeping = new CommittedCounter(test.Open(), keepsRoundTrip: true);
        var viaPlain = (Shop.Shop)new Shop.Shop().Open(plain);
        var viaKeeping = (Shop.Shop)new Shop.Shop().Open(keeping);

        viaPlain.Stock(items: 2, tags: 1);
        viaKeeping.Stock(items: 2, tags: 1);
        var item = Item.List("async");
        await viaKeeping.SaveAsync(item);

        // By default a wrapper sees each part of a save; one that returns InnerAppendsCommitted lets
        // the provider send it whole (PostgreSQL), and SQLite, which does not, is asked nothing more.
        Assert.Equal(0, plain.Committed);
        Assert.Equal(test.IsPostgres ? 3 : 0, keeping.Committed);
        Assert.Equal(13, viaKeeping.NotificationLog.MaxNotificationId);
        Assert.Equal(Enumerable.Range(1, 13).Select(i => (long)i), viaPlain.NotificationLog.Select(0, 20).Items.Select(n => n.Id));
    }

    /// <summary>Counts the saves the inner provider appended and committed in one round trip.</summary>
    private sealed class CommittedCounter(Persistence inner, bool keepsRoundTrip) : DelegatingPersistence(inner)
    {
        private int _committed;

        public int Committed => Volatile.Read(ref _committed);

        protected override bool AppendsCommitted => keepsRoundTrip ? InnerAppendsCommitted : base.AppendsCommitted;

        protected override long AppendCommitted(StoreCommands commands, StoreTables tables, string application, IReadOnlyList<StoredEvent> events, WriteProgress progress)
        {
            Interlocked.Increment(ref _committed);
            return base.AppendCommitted(commands, tables, application, events, progress);
        }

        protected override Task<long> AppendCommittedAsync(StoreCommands commands, StoreTables tables, string application, IReadOnlyList<StoredEvent> events, WriteProgress progress, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _committed);
            return base.AppendCommittedAsync(commands, tables, application, events, progress, cancellationToken);
        }
    }

    /// <summary>Counts how the store appends, per application, and passes everything on.</summary>
    private sealed class AppendCounter(Persistence inner) : DelegatingPersistence(inner)
    {
        private readonly Dictionary<string, int> _atOnce = [];
        private int _insertedOneByOne, _promptedOneByOne, _atOnceAsync;

        public int InsertedOneByOne => Volatile.Read(ref _insertedOneByOne);

        public int PromptedOneByOne => Volatile.Read(ref _promptedOneByOne);

        public int AtOnceAsync => Volatile.Read(ref _atOnceAsync);

        public int AtOnce(string application)
        {
            lock (_atOnce) return _atOnce.GetValueOrDefault(application);
        }

        protected override AppendedAtOnce? AppendAtOnce(StoreCommands commands, StoreTables tables, string application, TrackingUpdate? tracking, IReadOnlyList<StoredEvent> events, WriteProgress progress)
        {
            lock (_atOnce) _atOnce[application] = _atOnce.GetValueOrDefault(application) + 1;
            return base.AppendAtOnce(commands, tables, application, tracking, events, progress);
        }

        protected override ValueTask<AppendedAtOnce?> AppendAtOnceAsync(StoreCommands commands, StoreTables tables, string application, IReadOnlyList<StoredEvent> events, WriteProgress progress, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _atOnceAsync);
            return base.AppendAtOnceAsync(commands, tables, application, events, progress, cancellationToken);
        }

        protected override void InsertEvents(StoreCommands commands, StoreTables tables, IReadOnlyList<StoredEvent> events)
        {
            Interlocked.Increment(ref _insertedOneByOne);
            base.InsertEvents(commands, tables, events);
        }

        protected override ValueTask InsertEventsAsync(StoreCommands commands, StoreTables tables, IReadOnlyList<StoredEvent> events, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _insertedOneByOne);
            return base.InsertEventsAsync(commands, tables, events, cancellationToken);
        }

        protected override void Appending(StoreCommands commands, string application, long lastNotificationId)
        {
            Interlocked.Increment(ref _promptedOneByOne);
            base.Appending(commands, application, lastNotificationId);
        }

        protected override ValueTask AppendingAsync(StoreCommands commands, string application, long lastNotificationId, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _promptedOneByOne);
            return base.AppendingAsync(commands, application, lastNotificationId, cancellationToken);
        }
    }
}
