using LinqToDB.Data;
using ProcessDsl.Postgres.Tests.Shop;
using ProcessDsl.Postgres.Tests.Support;

namespace ProcessDsl.Postgres.Tests;

/// <summary>
/// Exactly-once whatever a policy does, on every store: nothing of a failed policy is committed,
/// a re-run's own failure is never ignored, a step reads its own writes (so results never depend on
/// batch boundaries), and a commit whose outcome is unknown is never reported as "not stored".
/// </summary>
public sealed class ExactlyOnceSuite
{
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(60);

    private static RunnerOptions Options(int batch, int attempts = 3) => new()
    {
        Processing = new ProcessingOptions { MaxBatchSize = batch, PolicyAttempts = attempts, InitialBackoff = TimeSpan.FromMilliseconds(1) },
    };

    private static List<Guid> Record(Persistence store, int items, int tags) =>
        ((Shop.Shop)new Shop.Shop().Open(store)).Stock(items, tags);

    private static List<long> ReceiptsByUpstreamId(Tills tills) =>
        tills.NotificationLog.Select(0, 100_000).Items
            .Select(n => ((Receipt.Issued)EventTopics.Deserialize(n)).UpstreamId).Order().ToList();

    [Theory, SqliteStore, PostgresStore, MemoryStore, WrappedStore]
    public async Task A_policy_that_fails_after_collecting_stores_nothing_of_the_failed_attempt(string kind)
    {
        using var test = TestStore.Create(kind);
        Record(test.Open(), items: 12, tags: 3);  // each item: Listed, 3 x Tagged, Sold: unhandled topics before each handled one

        await using var runner = new SingleThreadedRunner(ShopSystem.Definition, test.Open(), Options(batch: 1000));
        var sold = Enumerable.Range(1, 12).Select(i => (long)(i * 5)).ToList();
        // The runner creates the applications on start; script the failures before the first step runs.
        var tills = await StartWith(runner, t => { foreach (var id in sold) t.FailOn[id] = [1]; });

        await runner.WaitUntilIdleAsync(Idle);
        Assert.Equal(sold, ReceiptsByUpstreamId(tills));         // 12 sold, 12 receipts: none doubled
        Assert.All(sold, id => Assert.True(tills.Calls(id) >= 2));   // failed, then ran again (prefix re-runs call it more)
        Assert.Equal(60, Position(runner, "Tills"));
    }

    [Theory, SqliteStore, PostgresStore, MemoryStore, WrappedStore]
    public async Task A_failure_while_re_running_the_prefix_is_the_one_reported_and_nothing_is_skipped(string kind)
    {
        using var test = TestStore.Create(kind);
        Record(test.Open(), items: 10, tags: 0);  // Listed, Sold per item: Sold at 2, 4, ..., 20
        await using var runner = new SingleThreadedRunner(ShopSystem.Definition, test.Open(), Options(batch: 1000));
        // Notification 10 fails on its first run; while the events before it run again, 6 fails on
        // its second run (its first, in the big batch, went well).
        var tills = await StartWith(runner, t =>
        {
            t.FailOn[10] = [1];
            t.FailOn[6] = [2];
        });

        await runner.WaitUntilIdleAsync(Idle);
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)(i * 2)), ReceiptsByUpstreamId(tills));
        Assert.Equal(20, Position(runner, "Tills"));
    }

    [Theory, SqliteStore, PostgresStore, MemoryStore, WrappedStore]
    public async Task A_step_reads_its_own_rows_so_batch_size_one_and_a_thousand_give_the_same_catalog(string kind)
    {
        var results = new List<List<string>>();
        foreach (var batch in new[] { 1, 1000 })
        {
            using var test = TestStore.Create(kind);
            var ids = Record(test.Open(), items: 20, tags: 4);
            await using var runner = new SingleThreadedRunner(ShopSystem.Definition, test.Open(), Options(batch));
            await runner.StartAsync();
            await runner.WaitUntilIdleAsync(Idle);
            var rows = runner.Get<Catalog>().Query<CatalogRow>().ToList()
                .Select(r => (r.ItemId, r.Title, r.Tags, r.Sold)).OrderBy(r => r.ItemId).ToList();
            Assert.Equal(20, rows.Count);
            Assert.All(rows, r => Assert.StartsWith("title ", r.Title));   // catch-up lost no title
            Assert.All(rows, r => Assert.Equal(",t0,t1,t2,t3", r.Tags));
            Assert.All(rows, r => Assert.True(r.Sold));
            Assert.Equal(ids.Order(), rows.Select(r => r.Item1).Order());
            results.Add(rows.Select(r => $"{r.Title}|{r.Tags}|{r.Sold}").Order(StringComparer.Ordinal).ToList());
        }
        Assert.Equal(results[0], results[1]);
    }

    [Theory, SqliteStore, PostgresStore, MemoryStore, WrappedStore]
    public async Task A_step_writes_its_rows_in_the_order_its_policies_made_them_however_many_share_one_round_trip(string kind)
    {
        // 300 items x (Listed, 4 Tagged, Sold): with a batch of 1000 one step makes ~1000 row writes
        // (more than one round trip's worth on PostgreSQL), rewriting each key five times, then deleting
        // it and, for kept items, writing it again. Any reordering leaves a different shelf.
        foreach (var batch in new[] { 1, 1000 })
        {
            using var test = TestStore.Create(kind);
            var ids = Record(test.Open(), items: 300, tags: 4);
            await using var runner = new SingleThreadedRunner(ShelfSystem.Definition, test.Open(), Options(batch));
            await runner.StartAsync();
            await runner.WaitUntilIdleAsync(Idle);
            var rows = runner.Get<Shelf>().Query<ShelfRow>().ToList().OrderBy(r => r.ItemId).Select(r => (r.ItemId, r.Last, r.Version)).ToList();
            var expected = ids.Where(Shelf.Kept).Order().Select(id => (id, (string?)"sold", 6L)).ToList();
            Assert.True(expected.Count is > 50 and < 250);   // both kinds of item are there
            Assert.Equal(expected, rows);
            Assert.Equal(1800, Position(runner, "Shelf"));
        }
    }

    [Theory, SqliteStore, PostgresStore, MemoryStore, WrappedStore]
    public async Task A_step_writing_many_keys_in_turn_leaves_each_row_with_its_own_last_values(string kind)
    {
        // 300 items listed in one save, tagged in four more, a third of them sold: a step of 1000 events
        // writes runs of hundreds of different keys (on PostgreSQL several rows per statement), each
        // key again in the next run, and deletes in between. Every row must end with its own values.
        foreach (var batch in new[] { 7, 1000 })
        {
            using var test = TestStore.Create(kind);
            var items = ((Shop.Shop)new Shop.Shop().Open(test.Open())).StockInTurns(300, tags: 4, sold: i => i % 3 == 0);
            await using var runner = new SingleThreadedRunner(ShelfSystem.Definition, test.Open(), Options(batch));
            await runner.StartAsync();
            await runner.WaitUntilIdleAsync(Idle);
            var rows = runner.Get<Shelf>().Query<ShelfRow>().ToList().OrderBy(r => r.ItemId).Select(r => (r.ItemId, r.Last, r.Version)).ToList();
            var expected = items.Select((item, i) => (item.Id, Sold: i % 3 == 0, Last: $"item {i} tag 3"))
                .Where(x => !x.Sold || Shelf.Kept(x.Id))
                .Select(x => x.Sold ? (x.Id, (string?)"sold", 6L) : (x.Id, (string?)x.Last, 5L))
                .OrderBy(x => x.Id).ToList();
            Assert.Equal(expected, rows);
            Assert.Equal(300 * 5 + 100, Position(runner, "Shelf"));
        }
    }

    [Theory, SqliteStore, PostgresStore, MemoryStore]
    public async Task A_row_the_database_refuses_in_a_big_step_is_pinned_to_its_event_and_nothing_of_it_or_after_is_stored(string kind)
    {
        using var test = TestStore.Create(kind);
        var ids = Record(test.Open(), items: 300, tags: 4);
        Shelf.Poison = ids[150];   // its Listed event is notification 150 * 6 + 1
        try
        {
            await using var runner = new SingleThreadedRunner(ShelfSystem.Definition, test.Open(), Options(batch: 1000, attempts: 2));
            var failure = await Assert.ThrowsAnyAsync<Exception>(async () =>
            {
                await runner.StartAsync();
                await runner.WaitUntilIdleAsync(Idle);
            });
            var processing = failure as ProcessingException ?? Assert.IsType<ProcessingException>(failure.InnerException);
            Assert.Equal("Shelf", processing.Application);
            Assert.Equal(901, processing.NotificationId);
            Assert.Equal("shop.item.listed", processing.Topic);
            Assert.Contains("last", processing.ToString(), StringComparison.OrdinalIgnoreCase);   // the database names the column

            // Everything before it is stored, as if run alone; nothing of it or after it.
            Assert.Equal(900, Position(runner, "Shelf"));
            var rows = runner.Get<Shelf>().Query<ShelfRow>().ToList().OrderBy(r => r.ItemId).Select(r => (r.ItemId, r.Last, r.Version)).ToList();
            Assert.Equal(ids.Take(150).Where(Shelf.Kept).Order().Select(id => (id, (string?)"sold", 6L)).ToList(), rows);
        }
        finally
        {
            Shelf.Poison = Guid.Empty;
        }
    }

    [Theory, SqliteStore, PostgresStore]
    public async Task A_save_grouped_into_a_step_whose_commit_outcome_is_unknown_is_told_so_never_not_stored(string kind)
    {
        using var test = TestStore.Create(kind);
        Record(test.Open(), items: 1, tags: 0);
        var store = new FaultyCommits(test.Open()) { FailAfterCommitOf = "Tills" };
        await using var runner = new MultiThreadedRunner(ShopSystem.Definition, store, Options(batch: 1000));
        Exception? saveError = null;
        Guid saved = default;
        var tills = await StartWith(runner, t =>
        {
            t.DuringPolicy = () =>
            {
                if (t.DuringPolicy is null) return;
                t.DuringPolicy = null;
                // A command's save of the same application, queued while the step holds its writer:
                // the step carries it into its transaction.
                var saver = new Thread(() =>
                {
                    try
                    {
                        t.SaveReceipt(Receipt.Issue(Guid.NewGuid(), -1), out saved);
                    }
                    catch (Exception ex)
                    {
                        saveError = ex;
                    }
                });
                saver.Start();
                Thread.Sleep(1000);
            };
        });
        await runner.WaitUntilIdleAsync(Idle);
        // The step's commit went through but its caller could not know: the save is stored and its
        // caller is told the outcome is unknown, not that nothing was stored.
        Assert.True(store.FailedCommits >= 1);
        Assert.IsType<CommitOutcomeUnknownException>(saveError);
        Assert.True(tills.Repository.Contains(saved));
        // The step was not repeated: one receipt for the sold item (upstream id 2), plus the save's.
        Assert.Equal([-1L, 2L], ReceiptsByUpstreamId(tills));
    }

    private static long Position(Runner runner, string application) =>
        SystemStatus.Read(runner.Definition, runner.Persistence).Single(a => a.Application == application).Following.Single().Position;

    /// <summary>Starts a runner whose <see cref="Tills"/> is prepared by <paramref name="prepare"/> before any step.</summary>
    private static async Task<Tills> StartWith(Runner runner, Action<Tills> prepare)
    {
        TillsSetup.Prepare = prepare;
        try
        {
            await runner.StartAsync();
        }
        finally
        {
            TillsSetup.Prepare = null;
        }
        return runner.Get<Tills>();
    }
}

/// <summary>
/// A provider outside the library's assembly, wrapping a real one: after a real COMMIT of the named
/// application's writer it throws as if the connection had been lost, so the caller cannot know.
/// </summary>
public sealed class FaultyCommits(Persistence inner) : WriterAwarePersistence(inner)
{
    private int _failed;

    public string? FailAfterCommitOf { get; init; }

    public int FailedCommits => Volatile.Read(ref _failed);

    protected override void CommitTransaction(DataConnection db)
    {
        base.CommitTransaction(db);
        if (WriterOf(db) is { } application && application == FailAfterCommitOf && Interlocked.CompareExchange(ref _failed, 1, 0) == 0)
            throw new IOException("injected: the connection was lost while COMMIT was on its way");
    }
}
