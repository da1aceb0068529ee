using System.Collections.Concurrent;
using System.Diagnostics;
using Npgsql;
using ProcessDsl.Postgres.Tests.Support;
using ProcessDsl.Tests.Support;

namespace ProcessDsl.Postgres.Tests;

/// <summary>
/// The orders system of the runtime tests under the <see cref="MultiprocessRunner"/> on PostgreSQL:
/// one worker process per application (tests/ProcessDsl.Tests.Host), killed with SIGKILL, cut off
/// from the server, the server restarted; in the end every order is reserved and paid exactly once.
/// </summary>
public sealed class MultiprocessPostgresTests
{
    private static readonly TimeSpan Idle = TimeSpan.FromMinutes(4);

    [PostgresFact]
    public async Task Workers_killed_with_SIGKILL_at_random_moments_during_thousands_of_orders_lose_and_double_nothing()
    {
        using var database = new FreshDatabase();
        var options = WorkerProgram.Options();
        await using var runner = new MultiprocessRunner(OrdersSystem.Definition, database.Spec, options);
        var ids = new ConcurrentQueue<Guid>();
        var kills = new List<string>();
        try
        {
            await runner.StartAsync();
            var orders = runner.Get<Orders>();
            const int Callers = 4, PerCaller = 500;
            using var stopKilling = new CancellationTokenSource();
            var callers = Enumerable.Range(0, Callers).Select(_ => Task.Run(() =>
            {
                for (var i = 0; i < PerCaller; i++) ids.Enqueue(orders.CreateNewOrder());
            })).ToArray();
            var killer = Task.Run(async () =>
            {
                var random = new Random(11);
                // Several kills while the orders arrive, then a few more while the workers catch up.
                while (!stopKilling.IsCancellationRequested)
                {
                    await Task.Delay(random.Next(150, 700));
                    var workers = runner.Workers;
                    var victim = workers[random.Next(workers.Count)];
                    try
                    {
                        using var process = Process.GetProcessById(victim.ProcessId);
                        process.Kill(); // SIGKILL
                        lock (kills) kills.Add($"{victim.Application}:{victim.ProcessId}");
                    }
                    catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
                    {
                        // Between a death and its restart: nothing to kill this time.
                    }
                }
            });
            await Task.WhenAll(callers);
            // Keep killing until enough kills happened, some of them after the last order.
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
            var atLastOrder = Count(kills);
            while ((Count(kills) < 6 || Count(kills) < atLastOrder + 2) && DateTime.UtcNow < deadline) await Task.Delay(50);
            await stopKilling.CancelAsync();
            await killer;

            await runner.WaitUntilIdleAsync(Idle);
            Assert.True(Count(kills) >= 6, $"only {Count(kills)} kills: {string.Join(", ", kills)}");
            Assert.True(runner.Workers.Sum(w => w.Restarts) >= 6, $"killed workers are restarted: {Describe(runner)}");
            Assert.Equal(Callers * PerCaller, ids.Count);
            OrdersChecks.AllReservedAndPaidExactlyOnce(runner, ids.ToArray());
            await runner.StopAsync();
        }
        finally
        {
            await StopAndKill(runner);
        }
    }

    [PostgresFact]
    public async Task Lost_prompts_and_cut_listener_connections_delay_but_never_strand_an_event()
    {
        using var database = new FreshDatabase();
        var options = WorkerProgram.Options() with { Runner = new RunnerOptions { PollInterval = TimeSpan.FromMilliseconds(300) } };
        await using var runner = new MultiprocessRunner(OrdersSystem.Definition, database.Spec, options);
        try
        {
            await runner.StartAsync();
            // Orders come from another "process" whose appends send no NOTIFY: Reservations and
            // Summaries only ever learn of them by polling. Meanwhile the workers' LISTEN connections
            // are cut again and again, so prompts of the others' appends are lost too.
            using var silent = Persistence.Postgres(database.ConnectionString, new PostgresOptions { Notify = false });
            var orders = (Orders)new Orders().Open(silent);
            var ids = new List<Guid>();
            var cut = 0;
            for (var round = 0; round < 8; round++)
            {
                for (var i = 0; i < 40; i++) ids.Add(orders.CreateNewOrder());
                // Saves are fast: give the workers' listeners time to be (re)connected before cutting them.
                await WaitForListenersAsync(database, TimeSpan.FromSeconds(20));
                cut += TerminateListeners(database);
                await Task.Delay(150);
            }
            Assert.True(cut >= 4, $"only {cut} listener connections were cut");

            await runner.WaitUntilIdleAsync(Idle);
            OrdersChecks.AllReservedAndPaidExactlyOnce(runner, ids);
            Assert.Equal(0, runner.Workers.Sum(w => w.Restarts)); // a lost connection of the listener never kills a worker
            await runner.StopAsync();
        }
        finally
        {
            await StopAndKill(runner);
        }
    }

    /// <summary>Waits (bounded) until some worker has a LISTEN connection open on the database.</summary>
    private static async Task WaitForListenersAsync(FreshDatabase database, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(database.Server) { Pooling = false }.ConnectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT count(*) FROM pg_stat_activity WHERE datname = @db AND query LIKE 'LISTEN%'", connection);
            command.Parameters.AddWithValue("db", database.Name);
            if ((long)(await command.ExecuteScalarAsync())! > 0) return;
            await Task.Delay(50);
        }
    }

    /// <summary>Cuts every LISTEN connection of the database (the workers' prompt listeners); returns how many.</summary>
    private static int TerminateListeners(FreshDatabase database)
    {
        using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(database.Server) { Pooling = false }.ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = @db AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()) t",
            connection);
        command.Parameters.AddWithValue("db", database.Name);
        return (int)(long)command.ExecuteScalar()!;
    }

    [Collection(PrivateClusterCollection.Name)]
    public sealed class ServerRestart
    {
        [PrivateClusterFact]
        public async Task The_server_restarted_mid_run_workers_reconnect_and_finish_and_nothing_is_lost_or_doubled()
        {
            using var cluster = PrivateCluster.Start();
            await using var runner = new MultiprocessRunner(OrdersSystem.Definition, "postgres:" + cluster.ConnectionString, WorkerProgram.Options());
            try
            {
                await runner.StartAsync();
                var orders = runner.Get<Orders>();
                var ids = new ConcurrentQueue<Guid>();
                var failures = new ConcurrentQueue<Exception>();
                using var stop = new CancellationTokenSource();
                var callers = Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
                {
                    while (!stop.IsCancellationRequested)
                    {
                        var order = Order.Create();
                        await SaveWithRetries(orders, order, failures);
                        ids.Enqueue(order.Id);
                    }
                })).ToArray();
                var payments = runner.Get<Payments>();
                await WaitUntil(() => ids.Count >= 300 && payments.NotificationLog.MaxNotificationId >= 50, callers);
                var processedBefore = payments.NotificationLog.MaxNotificationId;
                // Fast shutdown: every connection of the parent and the workers is cut. Down until the
                // parent's commands have failed: a restart wholly between two saves would go unseen (a
                // held connection's cut is retried on a fresh one, by design).
                cluster.Stop();
                await WaitUntil(() => !failures.IsEmpty, callers);
                cluster.StartAgain();
                var atRestart = ids.Count;
                await WaitUntil(() => ids.Count >= atRestart + 300, callers);
                await stop.CancelAsync();
                await Task.WhenAll(callers);

                await runner.WaitUntilIdleAsync(Idle);
                Assert.True(processedBefore > 0, "the workers were processing when the server went down");
                Assert.NotEmpty(failures); // the parent's commands saw the outage...
                // Each a database error, or a cut COMMIT said to be of unknown outcome (caused by one).
                Assert.All(failures, ex => Assert.IsAssignableFrom<NpgsqlException>(ex is CommitOutcomeUnknownException unknown ? unknown.InnerException : ex));
                OrdersChecks.AllReservedAndPaidExactlyOnce(runner, ids.ToArray()); // ...and nothing was lost or doubled
                Assert.Equal(0, runner.Workers.Sum(w => w.Restarts)); // the workers rode out the outage themselves
                await runner.StopAsync();
            }
            finally
            {
                await StopAndKill(runner);
            }
        }

        /// <summary>
        /// Saves a new order, retrying a command that failed during the outage. A retry that finds
        /// the order already stored (<see cref="ConcurrencyException"/>) means the failed attempt had
        /// committed after all (a failure at COMMIT is ambiguous, and says so with
        /// <see cref="CommitOutcomeUnknownException"/>): the order is saved exactly once.
        /// </summary>
        private static async Task SaveWithRetries(Orders orders, Order order, ConcurrentQueue<Exception> failures)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
            var failed = false;
            while (true)
            {
                try
                {
                    orders.Save(order);
                    return;
                }
                catch (ConcurrencyException) when (failed)
                {
                    return;
                }
                catch (Exception ex) when (ex is NpgsqlException or CommitOutcomeUnknownException && DateTime.UtcNow < deadline)
                {
                    failed = true;
                    failures.Enqueue(ex);
                    await Task.Delay(100);
                }
            }
        }

        private static async Task WaitUntil(Func<bool> condition, Task[] callers)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
            while (!condition())
            {
                if (callers.FirstOrDefault(c => c.IsFaulted) is { } faulted) await faulted; // rethrow a caller's error
                if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not met in 2 minutes");
                await Task.Delay(20);
            }
        }
    }

    private static int Count(List<string> kills)
    {
        lock (kills) return kills.Count;
    }

    internal static string Describe(MultiprocessRunner runner) =>
        string.Join(", ", runner.Workers.Select(w => $"{w.Application} pid {w.ProcessId} restarts {w.Restarts}"));

    /// <summary>Stops the runner (its errors are the test's business elsewhere) and makes sure no worker outlives the test.</summary>
    internal static async Task StopAndKill(MultiprocessRunner runner)
    {
        var workers = runner.Workers;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await runner.StopAsync(timeout.Token);
        }
        catch (Exception)
        {
            // Reported by the test's own assertions.
        }
        foreach (var worker in workers)
        {
            try
            {
                using var process = Process.GetProcessById(worker.ProcessId);
                process.Kill(entireProcessTree: true);
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
            {
                // Gone.
            }
        }
    }
}

/// <summary>A fresh database on the tests' server (NOTIFY is per database, so no other test prompts its workers); dropped on dispose.</summary>
internal sealed class FreshDatabase : IDisposable
{
    public FreshDatabase(string? serverConnectionString = null)
    {
        Server = serverConnectionString ?? PostgresServer.ConnectionString ?? throw new InvalidOperationException(PostgresServer.SkipReason);
        Name = "t_" + Guid.NewGuid().ToString("N");
        PostgresServer.Execute(Server, $"CREATE DATABASE {Name}"); // a generated identifier
        ConnectionString = new NpgsqlConnectionStringBuilder(Server) { Database = Name }.ConnectionString;
    }

    public string Server { get; }

    public string Name { get; }

    public string ConnectionString { get; }

    /// <summary>The store as the multiprocess runner passes it to its workers.</summary>
    public string Spec => "postgres:" + ConnectionString;

    public void Dispose()
    {
        NpgsqlConnection.ClearAllPools();
        try
        {
            PostgresServer.Execute(Server, $"DROP DATABASE IF EXISTS {Name} WITH (FORCE)");
        }
        catch (NpgsqlException)
        {
            // The server is gone (a private cluster destroyed first): nothing to drop.
        }
    }
}
