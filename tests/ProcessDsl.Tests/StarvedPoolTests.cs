using System.Diagnostics;
using ProcessDsl.Tests.Support;

namespace ProcessDsl.Tests;

/// <summary>
/// Tests that block every thread of the process's thread pool: they run alone, after the others
/// (nothing else in the process may need the pool meanwhile).
/// </summary>
[CollectionDefinition(nameof(StarvedPoolCollection), DisableParallelization = true)]
public sealed class StarvedPoolCollection;

[Collection(nameof(StarvedPoolCollection))]
public sealed class StarvedPoolTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>
    /// A host whose thread pool is starved (blocking code elsewhere in the process) must not stall the
    /// multi-threaded runner: a save's prompt wakes the worker's own thread, and a step on SQLite runs
    /// on that thread, so an order goes all the way through Reservations, Payments and back to Orders
    /// while no pool thread is free and none can be added.
    /// </summary>
    [Fact]
    public async Task The_multi_threaded_runner_on_sqlite_processes_an_order_while_every_pool_thread_is_blocked()
    {
        using var store = Persistence.Sqlite(_dir.Path);
        await using var runner = new MultiThreadedRunner(OrdersSystem.Definition, store);
        await runner.StartAsync();
        var orders = runner.Get<Orders>();
        // A first order before the pool is blocked: every worker has started and taken a step.
        WaitUntilPaid(orders, orders.CreateNewOrder(), "before the pool was blocked");
        WithThePoolBlocked(() =>
        {
            var id = orders.CreateNewOrder();
            WaitUntilPaid(orders, id, "while every pool thread was blocked");
            Assert.NotNull(orders.GetOrder(id).ReservationId);
        });
        await runner.StopAsync();
    }

    /// <summary>
    /// As above, with batches of 5 and 60 orders placed at once: the followers' steps find more than
    /// a batch waiting, so each reads its next batch ahead while it runs (work it hands to the pool);
    /// a step whose read-ahead the pool has not started reads that batch itself instead of waiting.
    /// </summary>
    [Fact]
    public async Task Followers_that_read_ahead_catch_up_while_every_pool_thread_is_blocked()
    {
        using var store = Persistence.Sqlite(_dir.Path);
        await using var runner = new MultiThreadedRunner(OrdersSystem.Definition, store,
            new RunnerOptions { Processing = new ProcessingOptions { MaxBatchSize = 5 } });
        await runner.StartAsync();
        var orders = runner.Get<Orders>();
        WaitUntilPaid(orders, orders.CreateNewOrder(), "before the pool was blocked");
        WithThePoolBlocked(() =>
        {
            var ids = new List<Guid>();
            for (var i = 0; i < 60; i++) ids.Add(orders.CreateNewOrder());
            foreach (var id in ids) WaitUntilPaid(orders, id, "while every pool thread was blocked");
        });
        await runner.StopAsync();
    }

    /// <summary>
    /// An order recorded by another instance of the Orders application (as another process would:
    /// no prompt reaches this runner) is found by the workers' polls, also while every pool thread is
    /// blocked: a worker's wait for a prompt times out without a timer (timers run on the pool).
    /// </summary>
    [Fact]
    public async Task Polls_find_events_no_prompt_announced_while_every_pool_thread_is_blocked()
    {
        using var store = Persistence.Sqlite(_dir.Path);
        await using var runner = new MultiThreadedRunner(OrdersSystem.Definition, store,
            new RunnerOptions { PollInterval = TimeSpan.FromMilliseconds(100), CrossProcessPrompts = false });
        await runner.StartAsync();
        var orders = runner.Get<Orders>();
        WaitUntilPaid(orders, orders.CreateNewOrder(), "before the pool was blocked");
        using var otherStore = Persistence.Sqlite(_dir.Path);
        var elsewhere = (Orders)new Orders().Open(otherStore);
        WithThePoolBlocked(() => WaitUntilPaid(orders, elsewhere.CreateNewOrder(), "while every pool thread was blocked"));
        await runner.StopAsync();
    }

    /// <summary>Runs <paramref name="work"/> on the calling thread while every pool thread is blocked and the pool may not grow.</summary>
    private static void WithThePoolBlocked(Action work)
    {
        ThreadPool.GetMinThreads(out var minWorkers, out var minIo);
        ThreadPool.GetMaxThreads(out var maxWorkers, out var maxIo);
        using var release = new ManualResetEventSlim(false);
        using var probe = new ManualResetEventSlim(false);
        try
        {
            var cap = Environment.ProcessorCount;
            Assert.True(ThreadPool.SetMinThreads(cap, minIo), "could not lower the pool's minimum");
            Assert.True(ThreadPool.SetMaxThreads(cap, maxIo), "could not lower the pool's maximum");
            // Far more blockers than the pool may have threads: every thread takes one and the rest wait.
            for (var i = 0; i < 64; i++)
                ThreadPool.UnsafeQueueUserWorkItem(static gate => ((ManualResetEventSlim)gate!).Wait(), release, preferLocal: false);
            ThreadPool.UnsafeQueueUserWorkItem(static signal => ((ManualResetEventSlim)signal!).Set(), probe, preferLocal: false);
            Assert.False(probe.Wait(TimeSpan.FromMilliseconds(300)), "the pool still ran work: it is not blocked, so this test shows nothing");

            work();
            Assert.False(probe.IsSet, "a pool thread ran meanwhile: the pool was not blocked all along");
        }
        finally
        {
            release.Set();
            ThreadPool.SetMaxThreads(maxWorkers, maxIo);
            ThreadPool.SetMinThreads(minWorkers, minIo);
            probe.Wait(TimeSpan.FromSeconds(30));
        }
    }

    /// <summary>Blocks the test's thread (no pool thread) until the order is paid, for at most 30 seconds.</summary>
    private static void WaitUntilPaid(Orders orders, Guid id, string when)
    {
        var clock = Stopwatch.StartNew();
        while (orders.GetOrder(id).PaymentId is null)
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(30))
                Assert.Fail($"Order {id} was not paid within 30 s {when}: a worker waited for the thread pool.");
            Thread.Sleep(10);
        }
    }
}
