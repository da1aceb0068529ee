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
