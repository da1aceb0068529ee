using System.Collections.Concurrent;
using Npgsql;
using ProcessDsl.Postgres.Tests.Support;

namespace ProcessDsl.Postgres.Tests;

/// <summary>What only the PostgreSQL store has: schemas, connection strings, a server that can go away.</summary>
public sealed class PostgresTests
{
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(90);

    [PostgresFact]
    public async Task Each_application_may_live_in_its_own_schema_and_followers_read_across_schemas()
    {
        var suffix = Guid.NewGuid().ToString("N")[..12];
        var (bankSchema, auditSchema) = ($"bank_{suffix}", $"audit_{suffix}");
        var options = new PostgresOptions
        {
            Schemas = new Dictionary<string, string> { ["Bank"] = bankSchema, ["Audit"] = auditSchema },
        };
        try
        {
            using var store = Persistence.Postgres(PostgresServer.ConnectionString!, options);
            Assert.Equal(bankSchema, store.SchemaOf("Bank"));
            Assert.Equal(auditSchema, store.SchemaOf("Audit"));
            await using var runner = new MultiThreadedRunner(AuditSystem.Definition, store);
            await runner.StartAsync();
            var bank = runner.Get<Bank>();
            for (var i = 0; i < 25; i++) bank.OpenAccount("s" + i);
            await runner.WaitUntilIdleAsync(Idle);
            Assert.Equal(25, runner.Get<Audit>().NotificationLog.MaxNotificationId);

            var tables = Tables(bankSchema, auditSchema);
            Assert.Equal([$"{auditSchema}.audit_events", $"{auditSchema}.audit_parked", $"{auditSchema}.audit_tracking", $"{bankSchema}.bank_events", $"{bankSchema}.bank_parked", $"{bankSchema}.bank_tracking"], tables);
        }
        finally
        {
            PostgresServer.Execute($"DROP SCHEMA IF EXISTS {bankSchema} CASCADE");
            PostgresServer.Execute($"DROP SCHEMA IF EXISTS {auditSchema} CASCADE");
        }
    }

    [PostgresFact]
    public async Task An_application_may_live_in_another_database()
    {
        var other = PostgresServer.CreateDatabase();
        var schema = "t_" + Guid.NewGuid().ToString("N");
        try
        {
            var options = new PostgresOptions
            {
                Schema = schema,
                ConnectionStrings = new Dictionary<string, string> { ["Bank"] = PostgresServer.WithDatabase(other) },
            };
            using var store = Persistence.Postgres(PostgresServer.ConnectionString!, options);
            await using var runner = new SingleThreadedRunner(AuditSystem.Definition, store);
            await runner.StartAsync();
            for (var i = 0; i < 5; i++) runner.Get<Bank>().OpenAccount("d" + i);
            Assert.Equal(5, runner.Get<Audit>().NotificationLog.MaxNotificationId);
            Assert.Equal(5L, PostgresServer.Scalar<long>(PostgresServer.WithDatabase(other), $"SELECT count(*) FROM {schema}.bank_events"));
            Assert.Equal(5L, PostgresServer.Scalar<long>(PostgresServer.ConnectionString!, $"SELECT count(*) FROM {schema}.audit_events"));
        }
        finally
        {
            PostgresServer.Execute($"DROP SCHEMA IF EXISTS {schema} CASCADE");
            PostgresServer.DropDatabase(other);
        }
    }

    [PostgresFact]
    public void Bad_schema_names_and_connection_strings_are_rejected_clearly_and_passwords_are_not_described()
    {
        var cs = PostgresServer.ConnectionString!;
        Assert.Throws<ArgumentException>(() => Persistence.Postgres(cs, new PostgresOptions { Schema = "Bad-Name" }));
        Assert.Throws<ArgumentException>(() => Persistence.Postgres(cs, new PostgresOptions { Schema = "x; DROP SCHEMA public" }));
        Assert.Throws<ArgumentException>(() => Persistence.Postgres(cs, new PostgresOptions { Schemas = new Dictionary<string, string> { ["Bank"] = "1abc" } }));
        Assert.Throws<ArgumentException>(() => Persistence.Postgres(cs, new PostgresOptions { Schemas = new Dictionary<string, string> { ["not an app"] = "ok" } }));
        Assert.Throws<ArgumentException>(() => Persistence.Postgres("this is not a connection string"));
        Assert.Throws<ArgumentException>(() => Persistence.Postgres("Database=x"));
        using var store = Persistence.Postgres(cs + ";Password=secret-value");
        Assert.StartsWith("postgres:", store.Description);
        Assert.DoesNotContain("secret-value", store.Description);
    }

    [PostgresFact]
    public async Task A_reserved_word_as_schema_name_works()
    {
        // "user" and "order" are reserved in PostgreSQL; identifiers are quoted.
        var schema = "order";
        var database = PostgresServer.CreateDatabase();
        try
        {
            using var store = Persistence.Postgres(PostgresServer.WithDatabase(database), new PostgresOptions { Schema = schema });
            await using var runner = new SingleThreadedRunner(AuditSystem.Definition, store);
            await runner.StartAsync();
            runner.Get<Bank>().OpenAccount("r");
            Assert.Equal(1, runner.Get<Audit>().NotificationLog.MaxNotificationId);
        }
        finally
        {
            PostgresServer.DropDatabase(database);
        }
    }

    [PostgresFact]
    public async Task The_database_going_away_fails_writes_clearly_and_later_everything_completes_once()
    {
        var database = PostgresServer.CreateDatabase();
        var runnerOptions = new RunnerOptions
        {
            PollInterval = TimeSpan.FromMilliseconds(100),
            Processing = new ProcessingOptions { MaxBackoff = TimeSpan.FromMilliseconds(200) },
        };
        try
        {
            using var store = Persistence.Postgres(PostgresServer.WithDatabase(database));
            await using var runner = new MultiThreadedRunner(AuditSystem.Definition, store, runnerOptions);
            await runner.StartAsync();
            var bank = runner.Get<Bank>();
            var saved = new List<string>();
            for (var i = 0; i < 20; i++) saved.Add(Open(bank, "before" + i));

            // The database goes away: no new connections, every existing one cut.
            PostgresServer.Execute($"ALTER DATABASE {database} WITH ALLOW_CONNECTIONS false");
            PostgresServer.Execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = @db AND pid <> pg_backend_pid()", ("db", database));
            var failures = new List<Exception>();
            for (var i = 0; i < 5; i++)
                failures.Add(Assert.ThrowsAny<Exception>(() => bank.OpenAccount("during" + i)));
            Assert.All(failures, ex => Assert.IsAssignableFrom<NpgsqlException>(ex));
            Assert.Contains(failures, ex => ex.Message.Contains("not currently accepting connections", StringComparison.Ordinal));

            // It comes back: the next writes succeed (a stale pooled connection may fail one first).
            PostgresServer.Execute($"ALTER DATABASE {database} WITH ALLOW_CONNECTIONS true");
            for (var i = 0; i < 20; i++) saved.Add(Open(bank, "after" + i, retries: 3));
            await runner.WaitUntilIdleAsync(Idle);

            var owners = bank.NotificationLog.Select(0, 10_000).Items.Select(n => EventTopics.Deserialize<Account.Opened>(n).Owner).ToList();
            Assert.Equal(saved, owners); // nothing lost, nothing doubled, nothing of the failed writes
            var audited = runner.Get<Audit>().NotificationLog.Select(0, 10_000).Items
                .Select(n => EventTopics.Deserialize<AuditEntry.Recorded>(n).UpstreamId).Order();
            Assert.Equal(Enumerable.Range(1, 40).Select(i => (long)i), audited);
        }
        finally
        {
            PostgresServer.Execute($"ALTER DATABASE {database} WITH ALLOW_CONNECTIONS true");
            PostgresServer.DropDatabase(database);
        }
    }

    [Collection(PrivateClusterCollection.Name)]
    public sealed class ServerRestart
    {
        [PrivateClusterFact]
        public async Task A_server_restart_mid_run_delays_but_loses_or_doubles_nothing()
        {
            using var cluster = PrivateCluster.Start();
            var runnerOptions = new RunnerOptions
            {
                PollInterval = TimeSpan.FromMilliseconds(100),
                Processing = new ProcessingOptions { MaxBackoff = TimeSpan.FromMilliseconds(250) },
            };
            using var store = Persistence.Postgres(cluster.ConnectionString);
            await using var runner = new MultiThreadedRunner(AuditSystem.Definition, store, runnerOptions);
            await runner.StartAsync();
            var bank = runner.Get<Bank>();

            var succeeded = new ConcurrentQueue<string>();
            var uncertain = new ConcurrentQueue<string>(); // failed: committed or not, nobody can say
            var errors = new ConcurrentQueue<Exception>();
            using var stop = new CancellationTokenSource();
            var writer = Task.Run(async () =>
            {
                for (var i = 0; !stop.IsCancellationRequested; i++)
                {
                    var owner = "w" + i;
                    try
                    {
                        bank.OpenAccount(owner);
                        succeeded.Enqueue(owner);
                    }
                    catch (Exception ex)
                    {
                        uncertain.Enqueue(owner);
                        errors.Enqueue(ex);
                        await Task.Delay(50);
                    }
                }
            });
            await WaitUntil(() => succeeded.Count >= 100);
            // Down until the writer has tried and failed: a restart that fell wholly between two saves
            // would go unseen (the held connection's cut is retried on a fresh one, by design).
            cluster.Stop();
            await WaitUntil(() => !errors.IsEmpty);
            cluster.StartAgain();
            var afterRestart = succeeded.Count;
            await WaitUntil(() => succeeded.Count >= afterRestart + 100);
            await stop.CancelAsync();
            await writer;
            await runner.WaitUntilIdleAsync(Idle);

            Assert.NotEmpty(errors); // the writer saw the server go away...
            // A server error, or, when the restart cut a COMMIT, that error as an unknown outcome.
            Assert.All(errors, ex => Assert.IsAssignableFrom<NpgsqlException>(ex is CommitOutcomeUnknownException unknown ? unknown.InnerException : ex));
            var log = bank.NotificationLog.Select(0, 1_000_000).Items;
            Assert.Equal(Enumerable.Range(1, log.Count).Select(i => (long)i), log.Select(n => n.Id)); // ...and the log stayed contiguous
            var owners = log.Select(n => EventTopics.Deserialize<Account.Opened>(n).Owner).ToList();
            Assert.Equal(owners.Count, owners.Distinct().Count());
            Assert.Subset(owners.ToHashSet(), succeeded.ToHashSet());
            Assert.Superset(owners.ToHashSet(), succeeded.Concat(uncertain).ToHashSet());
            var audited = runner.Get<Audit>().NotificationLog.Select(0, 1_000_000).Items
                .Select(n => EventTopics.Deserialize<AuditEntry.Recorded>(n).UpstreamId).Order();
            Assert.Equal(log.Select(n => n.Id), audited);
        }

        private static async Task WaitUntil(Func<bool> condition)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (!condition())
            {
                if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not met in 60 s");
                await Task.Delay(20);
            }
        }
    }

    private static string Open(Bank bank, string owner, int retries = 0)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                bank.OpenAccount(owner);
                return owner;
            }
            catch (NpgsqlException) when (attempt < retries)
            {
                Thread.Sleep(100);
            }
        }
    }

    private static List<string> Tables(params string[] schemas)
    {
        using var connection = new NpgsqlConnection(PostgresServer.ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables WHERE table_schema = ANY(@schemas) ORDER BY 1", connection);
        command.Parameters.AddWithValue("schemas", schemas);
        using var reader = command.ExecuteReader();
        var result = new List<string>();
        while (reader.Read()) result.Add(reader.GetString(0));
        return result;
    }
}

/// <summary>Tests that start and restart a cluster of their own run one at a time.</summary>
[CollectionDefinition(Name)]
public sealed class PrivateClusterCollection
{
    public const string Name = "Private PostgreSQL cluster";
}
