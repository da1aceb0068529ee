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

    [PostgresFact]
    public async Task A_steps_commit_rides_in_its_append_and_a_step_behind_another_worker_is_refused_whole()
    {
        // Tills issues one receipt per sale: a sale processed twice shows as two receipts of one sale.
        using var test = TestStore.Create(StoreLocation.Postgres);
        RunnerOptions Options() => new()
        {
            Applications = ["Tills"],
            PollInterval = TimeSpan.FromHours(1),
            Processing = new ProcessingOptions { InitialBackoff = TimeSpan.FromMilliseconds(1) },
        };
        var shop = (Shop.Shop)new Shop.Shop().Open(test.Open());
        shop.Stock(items: 5, tags: 1);                                  // Listed, Tagged, Sold: 1..15
        using var store = new StepCommits(test.Open());
        await using var runner = new SingleThreadedRunner(ShopSystem.Definition, store, Options());
        await runner.StartAsync();
        await runner.WaitUntilIdleAsync(Idle);                          // at 15, and it knows it (a first position: inserted, not moved)
        Assert.Equal(0, store.Refused);

        shop.Stock(items: 5, tags: 1);                                  // 16..30: this runner hears nothing
        await using (var other = new SingleThreadedRunner(ShopSystem.Definition, test.Open(), Options()))
        {
            await other.StartAsync();                                   // another worker takes 16..30
            await other.WaitUntilIdleAsync(Idle);
        }
        // Saved through this runner, which steps from the 15 it knows: its policies issue receipts for
        // 16..30 again, and its tracking move, in the same round trip as its COMMIT, finds 30. Nothing
        // of that step may stay; the next starts from 30.
        runner.Get<Shop.Shop>().Stock(items: 5, tags: 1);               // 31..45
        await runner.WaitUntilIdleAsync(Idle);

        Assert.True(store.Refused >= 1, "the step behind the other worker was refused in its round trip");
        Assert.True(store.Committed >= 1, "the step from 30 appended and committed in one round trip");
        var tills = runner.Get<Tills>();
        var receipts = tills.NotificationLog.Select(0, 100).Items;
        Assert.Equal(Enumerable.Range(1, 15).Select(i => (long)i), receipts.Select(n => n.Id));
        var sales = receipts.Select(n => EventTopics.Deserialize<Receipt.Issued>(n).UpstreamId).ToList();
        Assert.Equal(Enumerable.Range(1, 15).Select(i => 3L * i), sales.Order());  // each Sold (every third id) once
    }

    [PostgresFact]
    public async Task A_step_whose_connection_is_lost_at_its_COMMIT_is_of_unknown_outcome_and_processed_once_after()
    {
        using var test = TestStore.Create(StoreLocation.Postgres);
        var shop = (Shop.Shop)new Shop.Shop().Open(test.Open());
        shop.Stock(items: 3, tags: 0);                                  // Listed, Sold: 1..6
        using var store = new StepCommits(test.Open());
        await using var runner = new SingleThreadedRunner(ShopSystem.Definition, store, new RunnerOptions
        {
            Applications = ["Tills"],
            Processing = new ProcessingOptions { InitialBackoff = TimeSpan.FromMilliseconds(1) },
        });
        await runner.StartAsync();
        await runner.WaitUntilIdleAsync(Idle);
        // The next commit that stores a receipt kills its own session while it commits (once): the
        // batch's COMMIT gets no reply, and nothing of the step is stored.
        test.Execute("Tills", "CREATE SEQUENCE kills");
        test.Execute("Tills", """
            CREATE FUNCTION kill_once() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF nextval('kills') = 1 THEN
                    PERFORM pg_terminate_backend(pg_backend_pid());
                END IF;
                RETURN NULL;
            END $$
            """);
        test.Execute("Tills", "CREATE CONSTRAINT TRIGGER kill_once AFTER INSERT ON tills_events DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION kill_once()");

        runner.Get<Shop.Shop>().Stock(items: 2, tags: 0);               // 7..10
        await runner.WaitUntilIdleAsync(Idle);

        Assert.Equal(1, store.Unknown);                                 // told unknown once, then retried from the stored position
        var tills = runner.Get<Tills>();
        var sales = tills.NotificationLog.Select(0, 100).Items.Select(n => EventTopics.Deserialize<Receipt.Issued>(n).UpstreamId).ToList();
        Assert.Equal([2L, 4L, 6L, 8L, 10L], sales.Order());
        Assert.Equal(5, tills.NotificationLog.MaxNotificationId);
    }

    /// <summary>
    /// Lets steps append and commit in one round trip as the inner provider does, counting what came of
    /// each; hears no prompts from other store instances (its runners poll instead).
    /// </summary>
    private sealed class StepCommits(Persistence inner) : DelegatingPersistence(inner)
    {
        private int _committed, _refused, _unknown;

        public int Committed => Volatile.Read(ref _committed);

        public int Refused => Volatile.Read(ref _refused);

        public int Unknown => Volatile.Read(ref _unknown);

        protected override bool AppendsCommitted => InnerAppendsCommitted;

        public override PromptTransport? CreatePromptTransport() => null;

        protected override AppendedAtOnce AppendAndCommit(StoreCommands commands, StoreTables tables, string application, TrackingUpdate? tracking, IReadOnlyList<StoredEvent> events, WriteProgress progress)
        {
            try
            {
                var done = base.AppendAndCommit(commands, tables, application, tracking, events, progress);
                Interlocked.Increment(ref done.TrackingMoved ? ref _committed : ref _refused);
                return done;
            }
            catch (Exception) when (progress.OutcomeUnknown)
            {
                Interlocked.Increment(ref _unknown);
                throw;
            }
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
