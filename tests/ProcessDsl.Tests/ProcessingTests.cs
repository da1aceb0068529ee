using LinqToDB.Data;
using ProcessDsl.Tests.Support;

namespace ProcessDsl.Tests;

[Collection("Reservations poison")] // PoisonOrderId is static: keep tests that use it apart
public sealed partial class ProcessingTests : IDisposable
{
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(60);
    private readonly TempDirectory _dir = new();

    public ProcessingTests()
    {
        Reservations.PoisonOrderId = Guid.Empty;
    }

    public void Dispose()
    {
        Reservations.PoisonOrderId = Guid.Empty;
        _dir.Dispose();
    }

    [Fact]
    public async Task Single_threaded_runner_finishes_all_processing_before_save_returns()
    {
        using var store = Persistence.Sqlite(_dir.Path);
        await using var runner = new SingleThreadedRunner(OrdersSystem.Definition, store);
        await runner.StartAsync();
        var orders = runner.Get<Orders>();
        var ids = new List<Guid>();
        for (var i = 0; i < 200; i++)
        {
            var id = orders.CreateNewOrder();
            ids.Add(id);
            // Deterministic: the loop Orders -> Reservations -> Orders -> Payments -> Orders is done already.
            var order = orders.GetOrder(id);
            Assert.NotNull(order.ReservationId);
            Assert.NotNull(order.PaymentId);
        }
        OrdersChecks.AllReservedAndPaidExactlyOnce(runner, ids);
        await runner.StopAsync();
    }

    [Fact]
    public async Task Multi_threaded_runner_processes_every_order_exactly_once()
    {
        using var store = Persistence.Sqlite(_dir.Path);
        await using var runner = new MultiThreadedRunner(OrdersSystem.Definition, store);
        await runner.StartAsync();
        var orders = runner.Get<Orders>();
        var ids = new System.Collections.Concurrent.ConcurrentBag<Guid>();
        await Parallel.ForAsync(0, 300, new ParallelOptions { MaxDegreeOfParallelism = 4 }, (_, _) =>
        {
            ids.Add(orders.CreateNewOrder());
            return ValueTask.CompletedTask;
        });
        await runner.WaitUntilIdleAsync(Idle);
        OrdersChecks.AllReservedAndPaidExactlyOnce(runner, ids.ToArray());
        await runner.StopAsync();
    }

    [Fact]
    public async Task The_multi_threaded_runner_runs_steps_on_its_workers_own_named_threads_never_on_the_thread_pool()
    {
        // Steps block on the database; on pool threads they would hold the threads that wake them.
        using var store = Persistence.Sqlite(_dir.Path);
        await using var runner = new MultiThreadedRunner(OrdersSystem.Definition, store);
        await runner.StartAsync();
        var orders = runner.Get<Orders>();
        var ids = new List<Guid>();
        try
        {
            for (var i = 0; i < 30; i++)
            {
                var id = orders.CreateNewOrder();
                Payments.Watched[id] = null; // the policy may run before this: such an order is not counted
                ids.Add(id);
                if (i % 10 == 9) await runner.WaitUntilIdleAsync(Idle);
            }
            await runner.WaitUntilIdleAsync(Idle);
            var seen = ids.Select(id => Payments.Watched[id]).Where(onPool => onPool is not null).ToList();
            Assert.NotEmpty(seen);
            Assert.All(seen, onPool => Assert.False(onPool));
            // Named after the application, for debuggers, dumps and profilers.
            var names = ids.Where(Payments.WatchedThreadNames.ContainsKey).Select(id => Payments.WatchedThreadNames[id]).ToList();
            Assert.NotEmpty(names);
            Assert.All(names, name => Assert.Equal("Payments worker", name));
        }
        finally
        {
            foreach (var id in ids)
            {
                Payments.Watched.TryRemove(id, out _);
                Payments.WatchedThreadNames.TryRemove(id, out _);
            }
        }
    }

    [Fact]
    public async Task A_restarted_runner_catches_up_on_what_was_recorded_while_stopped()
    {
        var ids = new List<Guid>();
        using (var store = Persistence.Sqlite(_dir.Path))
        {
            // Record orders with no followers running (an application on its own).
            var orders = (Orders)new Orders().Open(store);
            for (var i = 0; i < 50; i++) ids.Add(orders.CreateNewOrder());
        }
        using (var store = Persistence.Sqlite(_dir.Path))
        {
            await using var runner = new MultiThreadedRunner(OrdersSystem.Definition, store);
            await runner.StartAsync();
            for (var i = 0; i < 50; i++) ids.Add(runner.Get<Orders>().CreateNewOrder());
            await runner.StopAsync(); // stop, probably halfway
        }
        using (var store = Persistence.Sqlite(_dir.Path))
        {
            await using var runner = new MultiThreadedRunner(OrdersSystem.Definition, store);
            await runner.StartAsync();
            await runner.WaitUntilIdleAsync(Idle);
            OrdersChecks.AllReservedAndPaidExactlyOnce(runner, ids);
        }
    }

    [Fact]
    public async Task Two_workers_of_the_same_follower_racing_produce_each_effect_once()
    {
        var ids = new List<Guid>();
        using (var store = Persistence.Sqlite(_dir.Path))
        {
            var orders = (Orders)new Orders().Open(store);
            for (var i = 0; i < 300; i++) ids.Add(orders.CreateNewOrder());
        }
        // Two independent runners (own connections, caches and positions) on the same files race.
        var options = new RunnerOptions { Processing = new ProcessingOptions { MaxBatchSize = 7 } };
        using var storeA = Persistence.Sqlite(_dir.Path);
        using var storeB = Persistence.Sqlite(_dir.Path);
        await using var a = new MultiThreadedRunner(OrdersSystem.Definition, storeA, options);
        await using var b = new MultiThreadedRunner(OrdersSystem.Definition, storeB, options);
        await Task.WhenAll(a.StartAsync(), b.StartAsync());
        await a.WaitUntilIdleAsync(Idle);
        await b.WaitUntilIdleAsync(Idle);
        OrdersChecks.AllReservedAndPaidExactlyOnce(a, ids);
        await Task.WhenAll(a.StopAsync(), b.StopAsync());
    }

    [Fact]
    public async Task A_poison_event_stops_the_follower_naming_it_after_committing_the_events_before_it()
    {
        var ids = new List<Guid>();
        using var store = Persistence.Sqlite(_dir.Path);
        var recorder = (Orders)new Orders().Open(store);
        for (var i = 0; i < 10; i++) ids.Add(recorder.CreateNewOrder());
        Reservations.PoisonOrderId = ids[6];
        var poisonNotification = 7L; // the 7th Order.Created in the Orders log

        var options = new RunnerOptions { Processing = new ProcessingOptions { PolicyAttempts = 2, InitialBackoff = TimeSpan.FromMilliseconds(1) } };
        await using var runner = new MultiThreadedRunner(OrdersSystem.Definition, store, options);
        await runner.StartAsync();
        var ex = await Assert.ThrowsAsync<ProcessingException>(() => runner.WaitUntilIdleAsync(Idle));
        Assert.Equal("Reservations", ex.Application);
        Assert.Equal("Orders", ex.Upstream);
        Assert.Equal(poisonNotification, ex.NotificationId);
        Assert.Equal("ProcessDsl.Tests.Support.Order.Created", ex.Topic);
        Assert.IsType<InvalidOperationException>(ex.InnerException);

        var reservations = runner.Get<Reservations>();
        Assert.Equal(6, reservations.NotificationLog.MaxNotificationId);
        Assert.Equal(6, reservations.Store.Position("Orders"));
        await Assert.ThrowsAsync<ProcessingException>(() => runner.StopAsync());

        // Fixed and restarted: processing resumes at the failed event, nothing is doubled.
        Reservations.PoisonOrderId = Guid.Empty;
        await using var again = new MultiThreadedRunner(OrdersSystem.Definition, store);
        await again.StartAsync();
        await again.WaitUntilIdleAsync(Idle);
        OrdersChecks.AllReservedAndPaidExactlyOnce(again, ids);
    }

    [Fact]
    public async Task A_failing_projection_write_inside_the_commit_leaves_nothing_half_written()
    {
        var ids = new List<Guid>();
        using var store = Persistence.Sqlite(_dir.Path);
        var recorder = (Orders)new Orders().Open(store);
        for (var i = 0; i < 5; i++) ids.Add(recorder.CreateNewOrder());

        // Make the Summaries commit fail inside its transaction: a trigger rejects the row insert.
        var summaries = (Summaries)new Summaries().Open(store);
        summaries.Store.EnsureRowTable<OrderSummary>();
        using (var db = new LinqToDB.Data.DataConnection(summaries.Store.ReadOptions))
            db.Execute(
                "CREATE TRIGGER fail_insert BEFORE INSERT ON order_summary BEGIN SELECT RAISE(ABORT, 'injected fault'); END");

        var options = new RunnerOptions { Processing = new ProcessingOptions { TransientAttempts = 2, InitialBackoff = TimeSpan.FromMilliseconds(1) } };
        await using (var runner = new SingleThreadedRunner(OrdersSystem.Definition, store, options))
        {
            await runner.StartAsync();
            // The fault repeats, so it is pinned to the first event and reported, not retried for ever.
            var ex = await Assert.ThrowsAsync<ProcessingException>(() => runner.WaitUntilIdleAsync(Idle));
            Assert.Equal("Summaries", ex.Application);
            Assert.Equal(1, ex.NotificationId);
            Assert.Contains("injected fault", ex.InnerException!.Message);
            Assert.Equal(0, summaries.Store.Position("Orders"));
            Assert.Equal(0, summaries.Query<OrderSummary>().Count());
        }

        using (var db = new LinqToDB.Data.DataConnection(summaries.Store.ReadOptions))
            db.Execute( "DROP TRIGGER fail_insert");
        await using var restarted = new SingleThreadedRunner(OrdersSystem.Definition, store);
        await restarted.StartAsync();
        OrdersChecks.AllReservedAndPaidExactlyOnce(restarted, ids);
    }

    [Fact]
    public async Task A_fault_between_the_policies_and_the_commit_loses_and_doubles_nothing()
    {
        var ids = new List<Guid>();
        using var store = Persistence.Sqlite(_dir.Path);
        var recorder = (Orders)new Orders().Open(store);
        for (var i = 0; i < 20; i++) ids.Add(recorder.CreateNewOrder());

        // Another worker moves the tracking position after our policies ran but before our commit.
        var reservations = (Reservations)new Reservations().Open(store);
        var follower = new Follower(reservations, "Orders", recorder.NotificationLog, new ProcessingOptions { MaxBatchSize = 5 });
        follower.Step(); // commits 1..5
        var rival = new Follower((Reservations)new Reservations().Open(Persistence.Sqlite(_dir.Path)), "Orders", recorder.NotificationLog, new ProcessingOptions { MaxBatchSize = 5 });
        rival.Step(); // commits 6..10 behind our back
        Assert.Throws<TrackingConflictException>(() => follower.Step()); // ours expected 5: rolled back whole
        Assert.Equal(10, reservations.NotificationLog.MaxNotificationId);

        await follower.CatchUpAsync(CancellationToken.None);
        var reserved = OrdersChecks.Contiguous(reservations.NotificationLog)
            .Select(n => ((Reservation.Created)EventTopics.Deserialize(n)).OrderId).ToList();
        Assert.Equal(ids, reserved);
    }

    [Fact]
    public void Steps_take_large_batches_when_catching_up_and_single_events_when_live()
    {
        using var store = Persistence.Sqlite(_dir.Path);
        var orders = (Orders)new Orders().Open(store);
        for (var i = 0; i < 20; i++) orders.CreateNewOrder();
        var reservations = (Reservations)new Reservations().Open(store);
        var follower = new Follower(reservations, "Orders", orders.NotificationLog, new ProcessingOptions { MaxBatchSize = 7 });

        Assert.Equal(7, follower.Step().Covered);
        Assert.Equal(7, follower.Step().Covered);
        Assert.Equal(6, follower.Step().Covered);
        Assert.True(follower.Step().CaughtUp);

        orders.CreateNewOrder();
        Assert.Equal(1, follower.Step().Covered);
        Assert.True(follower.Step().CaughtUp);
        Assert.Equal(21, reservations.NotificationLog.MaxNotificationId);
    }

    [Fact]
    public async Task A_follower_reading_ahead_reads_each_batch_once_and_uses_it_where_the_next_step_starts()
    {
        using var store = Persistence.Sqlite(_dir.Path);
        var orders = (Orders)new Orders().Open(store);
        var ids = Enumerable.Range(0, 20).Select(_ => orders.CreateNewOrder()).ToList();
        var log = new CountingLog(orders.NotificationLog);
        var reservations = (Reservations)new Reservations().Open(store);
        var follower = new Follower(reservations, "Orders", log, new ProcessingOptions { MaxBatchSize = 7 }) { ReadsAhead = true };

        await follower.CatchUpAsync(CancellationToken.None);
        // 0 -> 7 read by the step; 7 and 14 read ahead while the steps before ran, each once, and used.
        Assert.Equal([0L, 7L, 14L], log.Reads());
        Assert.Equal(ids, Reserved(reservations));

        // A batch read ahead is dropped when the next step starts elsewhere: a rival commits the
        // batch it holds, our step conflicts, and the position is read again from the store.
        for (var i = 0; i < 20; i++) ids.Add(orders.CreateNewOrder());
        log.Clear();
        Assert.Equal(7, follower.Step().Covered);                  // 20 -> 27, reading 27 -> 34 ahead
        // The step returned and no other has started, yet the next batch is being read (or was).
        Assert.True(SpinWait.SpinUntil(() => log.Reads().Contains(27), TimeSpan.FromSeconds(30)));
        var rival = new Follower((Reservations)new Reservations().Open(Persistence.Sqlite(_dir.Path)), "Orders", orders.NotificationLog, new ProcessingOptions { MaxBatchSize = 7 });
        rival.Step(); rival.Step();                                  // 27 -> 34 -> 40 behind our back
        Assert.Throws<TrackingConflictException>(() => follower.Step()); // ours used 27 -> 34 and expected 27: rolled back
        await follower.CatchUpAsync(CancellationToken.None);         // from the stored 40, read anew: nothing left
        Assert.Equal(ids, Reserved(reservations));
        Assert.Equal(40, reservations.Store.Position("Orders"));
        // The conflicting step had handed the read of 34 to the pool; the next step started at 40 and
        // dropped it: read at most once, and only if a pool thread had started it before (it may still
        // be on its way); never used.
        Assert.Equal([20L, 27L, 40L], log.Reads().Where(after => after != 34));
        Assert.True(log.Reads().Count(after => after == 34) <= 1);
    }

    private static List<Guid> Reserved(Reservations reservations) =>
        OrdersChecks.Contiguous(reservations.NotificationLog).Select(n => ((Reservation.Created)EventTopics.Deserialize(n)).OrderId).ToList();

    /// <summary>An upstream log that records where each range read started.</summary>
    private sealed class CountingLog(INotificationLog inner) : INotificationLog
    {
        private readonly List<long> _reads = [];
        public string Application => inner.Application;
        public int SectionSize => inner.SectionSize;
        public Section this[string sectionId] => inner[sectionId];
        public Task<Section> GetSectionAsync(string sectionId, CancellationToken cancellationToken = default) => inner.GetSectionAsync(sectionId, cancellationToken);

        public NotificationBatch Select(long after, int limit, IReadOnlySet<string>? topics = null)
        {
            lock (_reads) _reads.Add(after);
            return inner.Select(after, limit, topics);
        }

        public Task<NotificationBatch> SelectAsync(long after, int limit, IReadOnlySet<string>? topics = null, CancellationToken cancellationToken = default) =>
            Task.FromResult(Select(after, limit, topics));

        public List<long> Reads()
        {
            lock (_reads) return [.. _reads.Order()];
        }

        public void Clear()
        {
            lock (_reads) _reads.Clear();
        }
    }

    [Fact]
    public void A_step_serves_cached_aggregates_without_reading_them_and_brings_them_forward_when_another_instance_wrote()
    {
        using var store = Persistence.Sqlite(_dir.Path);
        var orders = (Orders)new Orders().Open(store);
        for (var i = 0; i < 20; i++) orders.CreateNewOrder();
        var tallies = (Tallies)new Tallies().Open(store);
        var follower = new Follower(tallies, "Orders", orders.NotificationLog, new ProcessingOptions { MaxBatchSize = 4 });

        follower.Step();                                   // the tally is new: asked for (absent), started, remembered
        var reads = tallies.Repository.StoreReads;
        Assert.True(reads > 0);
        follower.Step();
        follower.Step();                                   // every event gets and changes the tally: served from the cache
        Assert.Equal(reads, tallies.Repository.StoreReads);

        // Another instance of the application (another process) counts twice: the next step finds the
        // log two events past what this instance knows, reads those once and brings the tally forward.
        var other = (Tallies)new Tallies().Open(Persistence.Sqlite(_dir.Path));
        var tally = other.Repository.Get<Tally>(Tally.TheId);
        tally.CountOrder(Guid.Empty);
        tally.CountOrder(Guid.Empty);
        other.Save(tally);
        Assert.Equal(4, follower.Step().Covered);          // a stale tally would conflict here
        Assert.Equal(reads, tallies.Repository.StoreReads);
        Assert.Equal(16 + 2, tallies.Repository.Get<Tally>(Tally.TheId).Count);   // 4 steps of 4 orders, and the other two

        // Far behind (more events than a step reads to catch up): the cache is emptied and the tally read.
        tally = other.Repository.Get<Tally>(Tally.TheId);
        for (var i = 0; i < 10_001; i++) tally.CountOrder(Guid.Empty);
        other.Save(tally);
        reads = tallies.Repository.StoreReads;
        Assert.Equal(4, follower.Step().Covered);
        Assert.True(tallies.Repository.StoreReads > reads);

        follower.Step();
        var final = tallies.Repository.Get<Tally>(Tally.TheId);
        Assert.Equal(20 + 2 + 10_001, final.Count);
        Assert.Equal(1 + 20 + 2 + 10_001, final.Version);
        Assert.Equal(20, tallies.Store.Position("Orders"));
    }

    [Fact]
    public void A_step_that_changed_several_aggregates_several_times_leaves_each_whole_in_the_cache()
    {
        using var store = Persistence.Sqlite(_dir.Path);
        var orders = (Orders)new Orders().Open(store);
        for (var i = 0; i < 12; i++) orders.CreateNewOrder();
        var books = (Books)new Books().Open(store);
        var follower = new Follower(books, "Orders", orders.NotificationLog, new ProcessingOptions { MaxBatchSize = 5 });

        Assert.Equal(5, follower.Step().Covered);           // three books opened and noted five times each: one commit
        var reads = books.Repository.StoreReads;
        Assert.Equal(5, follower.Step().Covered);           // each book served from what the cache kept of that commit
        Assert.Equal(2, follower.Step().Covered);
        Assert.Equal(reads, books.Repository.StoreReads);

        // The later steps built on the cached books: each stored total is its own amount for all 12
        // orders, so a book given another's events, or too few of its own, would show here (or would
        // have conflicted at the commit).
        var fresh = (Books)new Books().Open(Persistence.Sqlite(_dir.Path));
        for (var i = 0; i < Book.Ids.Length; i++)
        {
            var stored = fresh.Repository.Get<Book>(Book.Ids[i]);
            Assert.Equal(12 * (i + 1), stored.Total);
            Assert.Equal(1 + 12, stored.Version);
        }
        Assert.Equal(3 * (1 + 12), books.NotificationLog.MaxNotificationId);
    }

    [Fact]
    public void A_step_serves_aggregates_another_instance_created_from_the_events_it_reads_to_catch_up()
    {
        // The multiprocess shape: one instance of Orders takes the commands, another (a worker) runs
        // its policies, which change orders the first one created.
        using var store = Persistence.Sqlite(_dir.Path);
        var commands = (Orders)new Orders().Open(store);
        var reservations = (Reservations)new Reservations().Open(store);
        var reserving = new Follower(reservations, "Orders", commands.NotificationLog, new ProcessingOptions { MaxBatchSize = 100 });
        using var workerStore = Persistence.Sqlite(_dir.Path);
        var worker = (Orders)new Orders().Open(workerStore);
        var marking = new Follower(worker, "Reservations", reservations.NotificationLog, new ProcessingOptions { MaxBatchSize = 100 });

        var first = Enumerable.Range(0, 5).Select(_ => commands.CreateNewOrder()).ToList();
        reserving.Step();
        Assert.Equal(5, marking.Step().Covered);            // the worker knew nothing yet: its first step reads the
        var reads = worker.Repository.StoreReads;           // newest events once and finds the orders created there
        Assert.Equal(0, reads);

        var second = Enumerable.Range(0, 20).Select(_ => commands.CreateNewOrder()).ToList();
        reserving.Step();
        Assert.Equal(20, marking.Step().Covered);           // the 20 new orders come with the one catch-up read
        Assert.Equal(reads, worker.Repository.StoreReads);

        foreach (var id in first.Concat(second))
        {
            var order = commands.GetOrder(id);
            Assert.NotNull(order.ReservationId);
            Assert.Equal(2, order.Version);                 // reserved once, on the order as created
        }
        Assert.Equal(25 + 25, commands.NotificationLog.MaxNotificationId);
    }

    [Fact]
    public void A_follower_passing_over_events_it_does_not_handle_writes_that_position_with_its_next_commit_or_a_flush()
    {
        using var store = Persistence.Sqlite(_dir.Path);
        var orders = (Orders)new Orders().Open(store);
        var reservations = (Reservations)new Reservations().Open(store);
        var payments = (Payments)new Payments().Open(store);   // handles Order.Reserved only
        var reserving = new Follower(reservations, "Orders", orders.NotificationLog, new ProcessingOptions());
        var marking = new Follower(orders, "Reservations", reservations.NotificationLog, new ProcessingOptions());
        var paying = new Follower(payments, "Orders", orders.NotificationLog, new ProcessingOptions()) { DefersTrackingOnlySteps = true };

        orders.CreateNewOrder();
        orders.CreateNewOrder();
        Assert.Equal(2, paying.Step().Covered);                 // two Order.Created: nothing for Payments
        Assert.Equal(0, payments.Store.Position("Orders"));     // moved in memory only, no transaction
        Assert.True(paying.HasDeferredPosition);

        reserving.Step();
        marking.Step();                                         // two Order.Reserved: 3 and 4
        Assert.Equal(2, paying.Step().Covered);
        Assert.Equal(4, payments.Store.Position("Orders"));     // the commit carried the position from 0
        Assert.Equal(2, payments.NotificationLog.MaxNotificationId);
        Assert.False(paying.HasDeferredPosition);

        orders.CreateNewOrder();
        Assert.Equal(1, paying.Step().Covered);
        Assert.Equal(4, payments.Store.Position("Orders"));
        paying.FlushPosition();
        Assert.Equal(5, payments.Store.Position("Orders"));

        // Another instance moves the stored position meanwhile: the flush conflicts, and the follower
        // forgets what it knew and starts again from what is stored.
        orders.CreateNewOrder();
        Assert.Equal(1, paying.Step().Covered);
        using var otherStore = Persistence.Sqlite(_dir.Path);
        var rival = new Follower((Payments)new Payments().Open(otherStore), "Orders", orders.NotificationLog, new ProcessingOptions());
        Assert.Equal(1, rival.Step().Covered);
        Assert.Throws<TrackingConflictException>(paying.FlushPosition);
        Assert.False(paying.HasDeferredPosition);
        Assert.Equal(0, paying.Step().Covered);
        Assert.Equal(6, payments.Store.Position("Orders"));
        Assert.Equal(2, payments.NotificationLog.MaxNotificationId);   // nothing processed twice
    }

    [Fact]
    public void Inside_one_batch_policies_see_the_changes_of_earlier_events()
    {
        using var store = Persistence.Sqlite(_dir.Path);
        var orders = (Orders)new Orders().Open(store);
        var ids = Enumerable.Range(0, 50).Select(_ => orders.CreateNewOrder()).ToList();
        var tallies = (Tallies)new Tallies().Open(store);
        var follower = new Follower(tallies, "Orders", orders.NotificationLog, new ProcessingOptions { MaxBatchSize = 1000 });

        var step = follower.Step(); // one batch, one transaction
        Assert.Equal(50, step.Covered);
        var tally = tallies.Repository.Get<Tally>(Tally.TheId);
        Assert.Equal(50, tally.Count);
        Assert.Equal(51, tally.Version);
        Assert.Equal(51, tallies.NotificationLog.MaxNotificationId);
    }

    [Fact]
    public async Task Projection_rows_are_saved_and_deleted_with_the_tracking_record()
    {
        using var store = Persistence.Sqlite(_dir.Path);
        var recorder = (Orders)new Orders().Open(store);
        var ids = Enumerable.Range(0, 5).Select(_ => recorder.CreateNewOrder()).ToList();

        // Orders created, none paid yet: one row each.
        var open = (OpenOrders)new OpenOrders().Open(store);
        await new Follower(open, "Orders", recorder.NotificationLog, new ProcessingOptions { TransientAttempts = 2 }).CatchUpAsync(CancellationToken.None);
        Assert.Equal(ids.Order(), open.Query<OpenOrder>().Select(r => r.OrderId).ToList().Order());

        // Now the system reserves and pays them: every row is deleted.
        await using var runner = new SingleThreadedRunner(TallySystem.Definition, store);
        await runner.StartAsync();
        Assert.All(ids, id => Assert.NotNull(runner.Get<Orders>().GetOrder(id).PaymentId));
        Assert.Equal(0, runner.Get<OpenOrders>().Query<OpenOrder>().Count());
        Assert.Equal(runner.Get<Orders>().NotificationLog.MaxNotificationId, runner.Get<OpenOrders>().Store.Position("Orders"));
    }

    [Fact]
    public void The_single_threaded_runner_ranks_an_application_below_every_one_upstream_of_it_outside_its_loop()
    {
        var ranks = SingleThreadedRunner.Ranks(TallySystem.Definition);
        // Orders, Reservations and Payments form one loop: none is upstream of another outside it.
        Assert.Equal(0, ranks["Orders"]);
        Assert.Equal(0, ranks["Reservations"]);
        Assert.Equal(0, ranks["Payments"]);
        // The projections are reached by all three and reach none of them.
        Assert.Equal(3, ranks["Tallies"]);
        Assert.Equal(3, ranks["OpenOrders"]);
    }

    [Fact]
    public async Task Under_the_single_threaded_runner_a_projection_at_the_end_of_a_pipeline_takes_what_a_command_caused_in_one_commit()
    {
        using var store = new CommitCounter(Persistence.Sqlite(_dir.Path));
        await using var runner = new SingleThreadedRunner(TallySystem.Definition, store);
        await runner.StartAsync();
        var orders = runner.Get<Orders>();
        for (var i = 1; i <= 3; i++)
        {
            var before = store.Commits("OpenOrders");
            var id = orders.CreateNewOrder();
            // Order.Created and Order.Paid, one step: the row is written and deleted in one commit
            // (taken in the order prompted, the projection ran once for each, between the loop's steps).
            Assert.Equal(1, store.Commits("OpenOrders") - before);
            Assert.NotNull(orders.GetOrder(id).PaymentId);
            Assert.Equal(0, runner.Get<OpenOrders>().Query<OpenOrder>().Count());
            Assert.Equal(i, runner.Get<Tallies>().Repository.Get<Tally>(Tally.TheId).Count);
            // When the save returns, every position is written, passed-over events included.
            Assert.Equal(orders.NotificationLog.MaxNotificationId, runner.Get<OpenOrders>().Store.Position("Orders"));
            Assert.Equal(orders.NotificationLog.MaxNotificationId, runner.Get<Payments>().Store.Position("Orders"));
        }
    }

    [Fact]
    public void A_workers_passes_are_paced_so_its_commits_take_at_most_their_share_of_its_time()
    {
        var step = TimeSpan.FromMilliseconds(5);
        // Fast commits (or none): the step interval.
        Assert.Equal(step, MultiThreadedRunner.PassInterval(step, 0.1, TimeSpan.Zero));
        Assert.Equal(step, MultiThreadedRunner.PassInterval(step, 0.1, TimeSpan.FromMilliseconds(0.3)));
        // Slow commits: a commit of 2 ms may take a tenth of 20 ms, or a quarter of 8 ms.
        Assert.Equal(TimeSpan.FromMilliseconds(20), MultiThreadedRunner.PassInterval(step, 0.1, TimeSpan.FromMilliseconds(2)));
        Assert.Equal(TimeSpan.FromMilliseconds(8), MultiThreadedRunner.PassInterval(step, 0.25, TimeSpan.FromMilliseconds(2)));
        // A stalled commit stretches it to ten step intervals at most.
        Assert.Equal(TimeSpan.FromMilliseconds(50), MultiThreadedRunner.PassInterval(step, 0.1, TimeSpan.FromMilliseconds(30)));
        Assert.Equal(TimeSpan.Zero, MultiThreadedRunner.PassInterval(TimeSpan.Zero, 0.1, TimeSpan.FromMilliseconds(30)));
        Assert.Equal(0.1, new RunnerOptions().CommitShare);
        foreach (var bad in new[] { 0, -0.5, 1.01, double.NaN })
        {
            var error = Assert.Throws<ArgumentOutOfRangeException>(() => new RunnerOptions { CommitShare = bad });
            Assert.Equal("CommitShare", error.ParamName);
        }
    }

    [Fact]
    public void A_follower_reports_its_longest_step_commit_once()
    {
        using var store = new CommitCounter(Persistence.Sqlite(_dir.Path)) { SlowCommits = { ["Reservations"] = TimeSpan.FromMilliseconds(40) } };
        var orders = (Orders)new Orders().Open(store);
        for (var i = 0; i < 3; i++) orders.CreateNewOrder();
        var reservations = (Reservations)new Reservations().Open(store);
        var follower = new Follower(reservations, "Orders", orders.NotificationLog, new ProcessingOptions { MaxBatchSize = 1 });

        Assert.Equal(TimeSpan.Zero, follower.TakeLongestCommit());
        Assert.Equal(3, follower.CatchUp());
        Assert.Equal(3, store.Commits("Reservations"));
        Assert.InRange(follower.TakeLongestCommit(), TimeSpan.FromMilliseconds(40), TimeSpan.MaxValue);
        Assert.Equal(TimeSpan.Zero, follower.TakeLongestCommit());
    }

    [Fact]
    public async Task When_a_followers_commits_are_slow_the_multi_threaded_runner_commits_less_often_and_still_processes_everything_once()
    {
        // The same stream of orders, Reservations' commits slowed to 25 ms: paced to a tenth of its
        // time, it waits ten times a commit between passes (up to ten step intervals of 20 ms) and
        // takes several orders per commit.
        var unpaced = await ReservationCommitsAsync(commitShare: 1);
        var paced = await ReservationCommitsAsync(commitShare: 0.1);
        Assert.True(paced * 2 < unpaced, $"paced: {paced} commits; unpaced: {unpaced} commits");

        async Task<int> ReservationCommitsAsync(double commitShare)
        {
            using var directory = new TempDirectory();
            using var store = new CommitCounter(Persistence.Sqlite(directory.Path)) { SlowCommits = { ["Reservations"] = TimeSpan.FromMilliseconds(25) } };
            await using var runner = new MultiThreadedRunner(OrdersSystem.Definition, store, new RunnerOptions { StepInterval = TimeSpan.FromMilliseconds(20), CommitShare = commitShare });
            await runner.StartAsync();
            var orders = runner.Get<Orders>();
            var ids = new List<Guid>();
            for (var i = 0; i < 40; i++)
            {
                ids.Add(orders.CreateNewOrder());
                await Task.Delay(10);
            }
            await runner.WaitUntilIdleAsync(Idle);
            OrdersChecks.AllReservedAndPaidExactlyOnce(runner, ids);
            await runner.StopAsync();
            return store.Commits("Reservations");
        }
    }

    /// <summary>Counts the commits of each application's writer connection, and slows those named in <see cref="SlowCommits"/>.</summary>
    private sealed class CommitCounter(Persistence inner) : DelegatingPersistence(inner)
    {
        public Dictionary<string, TimeSpan> SlowCommits { get; } = [];

        private readonly System.Runtime.CompilerServices.ConditionalWeakTable<DataConnection, string> _writers = [];
        private readonly Dictionary<string, int> _commits = [];

        public int Commits(string application)
        {
            lock (_commits) return _commits.GetValueOrDefault(application);
        }

        protected internal override DataConnection OpenConnection(string application, StoreConnectionKind kind)
        {
            var db = base.OpenConnection(application, kind);
            if (kind == StoreConnectionKind.Writer) _writers.AddOrUpdate(db, application);
            return db;
        }

        protected internal override void CommitTransaction(DataConnection db)
        {
            var writer = _writers.TryGetValue(db, out var application);
            if (writer && SlowCommits.TryGetValue(application!, out var delay)) Thread.Sleep(delay);
            base.CommitTransaction(db);
            if (writer)
                lock (_commits) _commits[application!] = _commits.GetValueOrDefault(application!) + 1;
        }
    }

    [Fact]
    public async Task A_commit_that_fails_the_same_way_every_time_is_pinned_to_its_event_and_stops_the_follower()
    {
        using var store = Persistence.Sqlite(_dir.Path);
        var orders = (Orders)new Orders().Open(store);
        var ids = Enumerable.Range(0, 10).Select(_ => orders.CreateNewOrder()).ToList();
        RowWriters.BadOrderId = ids[6];
        try
        {
            var writers = (RowWriters)new RowWriters().Open(store);
            var follower = new Follower(writers, "Orders", orders.NotificationLog,
                new ProcessingOptions { PolicyAttempts = 2, InitialBackoff = TimeSpan.FromMilliseconds(1) });

            var ex = await Assert.ThrowsAsync<ProcessingException>(() => follower.CatchUpAsync(CancellationToken.None));
            Assert.Equal("RowWriters", ex.Application);
            Assert.Equal("Orders", ex.Upstream);
            Assert.Equal(7, ex.NotificationId);
            Assert.Equal("ProcessDsl.Tests.Support.Order.Created", ex.Topic);
            // In our words, naming the type and the fix, not LinqToDB's "no fields to update".
            var error = Assert.IsType<ArgumentException>(ex.InnerException);
            Assert.Contains(nameof(KeylessRow), error.Message);
            Assert.Contains("[PrimaryKey]", error.Message);

            // Everything before it is stored, nothing of it or after it.
            Assert.Equal(6, writers.Store.Position("Orders"));
            Assert.Equal(ids.Take(6).Order(), writers.Query<GoodRow>().Select(r => r.OrderId).ToList().Order());
            Assert.Equal(0, writers.Query<KeylessRow>().Count());
        }
        finally
        {
            RowWriters.BadOrderId = Guid.Empty;
        }
    }

    [Fact]
    public async Task Topics_no_policy_handles_are_skipped_but_the_position_moves_past_them()
    {
        using var store = Persistence.Sqlite(_dir.Path);
        await using var runner = new SingleThreadedRunner(OrdersSystem.Definition, store);
        await runner.StartAsync();
        var orders = runner.Get<Orders>();
        orders.CreateNewOrder();
        // Payments handles only Order.Reserved; Orders' log has Created, Reserved, Paid.
        var payments = runner.Get<Payments>();
        Assert.Equal(3, payments.Store.Position("Orders"));
        Assert.Equal(1, payments.NotificationLog.MaxNotificationId);
    }

    [Fact]
    public async Task Save_inside_a_policy_is_refused_with_advice()
    {
        using var store = Persistence.Sqlite(_dir.Path);
        var orders = (Orders)new Orders().Open(store);
        orders.CreateNewOrder();
        var bad = (SavesInPolicy)new SavesInPolicy().Open(store);
        var follower = new Follower(bad, "Orders", orders.NotificationLog, new ProcessingOptions { PolicyAttempts = 1 });
        var ex = await Assert.ThrowsAsync<ProcessingException>(() => follower.CatchUpAsync(CancellationToken.None));
        Assert.Contains("Collect", ex.InnerException!.Message);
    }

    [Fact]
    public async Task A_policy_failing_on_an_unreachable_database_is_retried_not_counted_against_the_event()
    {
        using var store = Persistence.Sqlite(_dir.Path);
        var orders = (Orders)new Orders().Open(store);
        orders.CreateNewOrder();
        var flaky = (FlakyDatabase)new FlakyDatabase().Open(store);
        // One policy attempt allowed: a counted failure would stop the follower at once.
        var follower = new Follower(flaky, "Orders", orders.NotificationLog,
            new ProcessingOptions { PolicyAttempts = 1, InitialBackoff = TimeSpan.FromMilliseconds(1) });
        await follower.CatchUpAsync(CancellationToken.None);
        Assert.Equal(4, flaky.Calls);
        Assert.Equal(1, flaky.Store.Position("Orders"));
    }

    [Fact]
    public async Task A_policy_that_times_out_on_its_own_is_counted_against_the_event()
    {
        using var store = Persistence.Sqlite(_dir.Path);
        var orders = (Orders)new Orders().Open(store);
        orders.CreateNewOrder();
        var flaky = (OwnTimeouts)new OwnTimeouts().Open(store);
        var follower = new Follower(flaky, "Orders", orders.NotificationLog,
            new ProcessingOptions { PolicyAttempts = 2, InitialBackoff = TimeSpan.FromMilliseconds(1) });
        // An IOException or TimeoutException of the policy's own making is a bug of the policy, not a
        // passing fault: it is not retried for ever.
        var ex = await Assert.ThrowsAsync<ProcessingException>(() => follower.CatchUpAsync(CancellationToken.None));
        Assert.IsType<FileNotFoundException>(ex.InnerException);
        Assert.Equal(2, flaky.Calls);
        Assert.Equal(0, flaky.Store.Position("Orders"));
    }

    [Fact]
    public async Task A_cancellation_that_is_not_the_runners_is_retried_and_never_stops_the_follower()
    {
        using var store = Persistence.Sqlite(_dir.Path);
        var orders = (Orders)new Orders().Open(store);
        orders.CreateNewOrder();
        var flaky = (HttpTimeouts)new HttpTimeouts().Open(store);
        var follower = new Follower(flaky, "Orders", orders.NotificationLog,
            new ProcessingOptions { PolicyAttempts = 1, InitialBackoff = TimeSpan.FromMilliseconds(1) });
        using var ours = new CancellationTokenSource();
        await follower.CatchUpAsync(ours.Token);
        Assert.Equal(4, flaky.Calls);
        Assert.Equal(1, flaky.Store.Position("Orders"));

        // The runner's own token does stop it.
        orders.CreateNewOrder();
        await ours.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => follower.CatchUpAsync(ours.Token));
    }

    private sealed class OwnTimeouts : ProcessApplication
    {
        private static readonly HashSet<string> s_topics = ["ProcessDsl.Tests.Support.Order.Created"];
        public override IReadOnlySet<string> HandledTopics => s_topics;
        public int Calls { get; private set; }

        protected override bool DispatchPolicy(Notification notification, ProcessingEvent processing)
        {
            Calls++;
            throw new FileNotFoundException("the policy's own template is missing", "template.txt");
        }
    }

    private sealed class HttpTimeouts : ProcessApplication
    {
        private static readonly HashSet<string> s_topics = ["ProcessDsl.Tests.Support.Order.Created"];
        public override IReadOnlySet<string> HandledTopics => s_topics;
        public int Calls { get; private set; }

        protected override bool DispatchPolicy(Notification notification, ProcessingEvent processing)
        {
            // What HttpClient throws when its own timeout passes.
            if (++Calls <= 3) throw new TaskCanceledException("The request was canceled due to the configured HttpClient.Timeout of 100 seconds elapsing.");
            return true;
        }
    }

    private sealed class FlakyDatabase : ProcessApplication
    {
        private static readonly HashSet<string> s_topics = ["ProcessDsl.Tests.Support.Order.Created"];
        public override IReadOnlySet<string> HandledTopics => s_topics;
        public int Calls { get; private set; }

        protected override bool DispatchPolicy(Notification notification, ProcessingEvent processing)
        {
            // What the store's own calls raise when the database is busy or away.
            if (++Calls <= 3) throw new Microsoft.Data.Sqlite.SqliteException("database is locked", 5);
            return true;
        }
    }

    private sealed class SavesInPolicy : ProcessApplication
    {
        private static readonly HashSet<string> s_topics = ["ProcessDsl.Tests.Support.Order.Created"];
        public override IReadOnlySet<string> HandledTopics => s_topics;

        protected override bool DispatchPolicy(Notification notification, ProcessingEvent processing)
        {
            Save(Reservation.Create(notification.OriginatorId));
            return true;
        }
    }
}
