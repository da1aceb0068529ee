using System.Diagnostics;
using Npgsql;
using OrdersSample;

namespace ProcessDsl.Benchmarks;

/// <summary>The orders job with the machine's durable commit rate measured in the same run.</summary>
internal static class OrdersBench
{
    /// <summary>
    /// Runs the orders job on a store. <paramref name="store"/> is a store spec (<c>sqlite:DIR</c>,
    /// <c>postgres:CONNECTION-STRING</c>, ...); null for SQLite in <paramref name="directory"/>. With
    /// <paramref name="freshDatabase"/> a PostgreSQL store gets a new database of its own for the run
    /// (created on the server the connection string names, dropped afterwards).
    /// </summary>
    public static async Task<int> RunAsync(string runner, int orders, int callers, string directory, string? store = null, bool freshDatabase = false)
    {
        store ??= "sqlite:" + Path.Combine(directory, "orders");
        const string Postgres = "postgres:";
        if (!store.StartsWith(Postgres, StringComparison.Ordinal))
        {
            if (freshDatabase) throw new ArgumentException("--fresh-db needs a postgres: store.");
            var commits = Baselines.DurableCommitsPerSecond(Path.Combine(directory, "baseline"), 3);
            Console.WriteLine(FormattableString.Invariant($"baseline durable_one_row_commits_per_s={commits:F0} (events/s if every order cost one such commit: {commits * OrdersJob.EventsPerOrder:F0})"));
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var code = await OrdersJob.RunAsync(new OrdersJobOptions(runner, orders, store, callers, 500, Progress: false), CancellationToken.None);
            PrintCpu(cpu, orders);
            var after = Baselines.DurableCommitsPerSecond(Path.Combine(directory, "baseline-after"), 3);
            Console.WriteLine(FormattableString.Invariant($"baseline_after durable_one_row_commits_per_s={after:F0}"));
            return code;
        }

        var connectionString = store[Postgres.Length..];
        using var scratch = freshDatabase ? PostgresScratch.Create(connectionString) : null;
        if (scratch is not null) connectionString = scratch.ConnectionString;
        try
        {
            var before = PostgresCommitsPerSecond(connectionString, TimeSpan.FromSeconds(3));
            Console.WriteLine(FormattableString.Invariant($"baseline postgres_one_row_commits_per_s={before:F0} (one connection; events/s if every order cost one such commit: {before * OrdersJob.EventsPerOrder:F0})"));
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var code = await OrdersJob.RunAsync(new OrdersJobOptions(runner, orders, Postgres + connectionString, callers, 500, Progress: false), CancellationToken.None);
            PrintCpu(cpu, orders);
            var after = PostgresCommitsPerSecond(connectionString, TimeSpan.FromSeconds(3));
            Console.WriteLine(FormattableString.Invariant($"baseline_after postgres_one_row_commits_per_s={after:F0}"));
            return code;
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
        }
    }

    /// <summary>
    /// This process's processor time (user and kernel) per order over the job: less noisy than wall
    /// time on a shared machine (it does not count multiprocess workers, nor the database server).
    /// </summary>
    private static void PrintCpu(TimeSpan before, int orders)
    {
        var used = Process.GetCurrentProcess().TotalProcessorTime - before;
        Console.WriteLine(FormattableString.Invariant($"client_cpu_s={used.TotalSeconds:F2} client_cpu_us_per_order={used.TotalMicroseconds / orders:F0}"));
    }

    /// <summary>One-row INSERT + COMMIT transactions per second on one connection (the server's durable commit rate).</summary>
    private static double PostgresCommitsPerSecond(string connectionString, TimeSpan duration)
    {
        using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        connection.Open();
        using (var create = new NpgsqlCommand("CREATE TEMP TABLE baseline (id bigint PRIMARY KEY, state bytea NOT NULL)", connection)) create.ExecuteNonQuery();
        var state = new byte[100];
        long n = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration)
        {
            using var transaction = connection.BeginTransaction();
            using var insert = new NpgsqlCommand("INSERT INTO baseline VALUES (@id, @state)", connection, transaction);
            insert.Parameters.AddWithValue("id", ++n);
            insert.Parameters.AddWithValue("state", state);
            insert.ExecuteNonQuery();
            transaction.Commit();
        }
        return n / clock.Elapsed.TotalSeconds;
    }
}
