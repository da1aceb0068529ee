using Npgsql;
using ProcessDsl.Postgres.Tests.Support;
using ProcessDsl.Tests.Support;

namespace ProcessDsl.Postgres.Tests;

/// <summary>
/// The application's held writer connection after the server cut it, projection row tables created
/// by several processes at once, and what a unique violation on a notification id means.
/// </summary>
public sealed class WriterConnectionTests
{
    [PostgresFact]
    public void After_the_server_cut_the_held_writer_connection_the_next_writes_succeed_at_once()
    {
        using var test = TestStore.Create(StoreLocation.Postgres);
        var name = "held_" + Guid.NewGuid().ToString("N")[..8];
        using var store = Open(test, name);
        var bank = test.OpenBank(store);
        var summaries = (Summaries)new Summaries().Open(store);
        bank.OpenAccount("before");
        Assert.Equal(0, summaries.Query<OrderSummary>().Count()); // the row table exists; Summaries holds a writer too

        for (var round = 0; round < 3; round++)
        {
            Assert.True(Terminate(name) >= 1, "the held writer connections were cut");
            bank.OpenAccount("after" + round); // no NpgsqlException: the dead connection is replaced before anything was sent
            Assert.Equal(0, summaries.Query<ProjectionRow>().Count()); // a new row table through Summaries' cut writer
        }
        var log = bank.NotificationLog.Select(0, 100).Items;
        Assert.Equal([1L, 2L, 3L, 4L], log.Select(n => n.Id));
        Assert.Equal(["before", "after0", "after1", "after2"], log.Select(n => EventTopics.Deserialize<Account.Opened>(n).Owner));
    }

    [PostgresFact]
    public void A_connection_lost_in_the_middle_of_an_append_is_not_retried_and_stores_nothing()
    {
        using var test = TestStore.Create(StoreLocation.Postgres);
        using var store = Open(test, "mid_" + Guid.NewGuid().ToString("N")[..8]);
        var bank = test.OpenBank(store);
        bank.OpenAccount("first");
        // The insert kills its own session: the transaction is cut after its lock and its first statements.
        var trigger = KillSessions(test, atCommit: false);

        var ex = Assert.ThrowsAny<NpgsqlException>(() => bank.OpenAccount("cut"));
        Assert.Contains("57P01", ex.ToString(), StringComparison.Ordinal);
        Assert.Equal(1L, Scalar<long>(test, "SELECT last_value FROM kills")); // tried once, not again

        test.Execute("Bank", $"DROP TRIGGER {trigger} ON bank_events");
        bank.OpenAccount("next");
        Assert.Equal(["first", "next"], bank.NotificationLog.Select(0, 100).Items.Select(n => EventTopics.Deserialize<Account.Opened>(n).Owner));
    }

    [PostgresFact]
    public void A_connection_lost_at_COMMIT_is_never_retried()
    {
        using var test = TestStore.Create(StoreLocation.Postgres);
        using var store = Open(test, "commit_" + Guid.NewGuid().ToString("N")[..8]);
        var bank = test.OpenBank(store);
        bank.OpenAccount("first");
        // A deferred trigger kills the session while it commits: the outcome is unknown to the writer.
        var trigger = KillSessions(test, atCommit: true);

        // Lost at COMMIT: the outcome is unknown, and the caller is told exactly that.
        var ex = Assert.Throws<CommitOutcomeUnknownException>(() => bank.OpenAccount("cut"));
        Assert.IsAssignableFrom<NpgsqlException>(ex.InnerException);
        Assert.Contains("57P01", ex.ToString(), StringComparison.Ordinal);
        Assert.Equal(1L, Scalar<long>(test, "SELECT last_value FROM kills")); // tried once: a COMMIT is never repeated

        test.Execute("Bank", $"DROP TRIGGER {trigger} ON bank_events");
        bank.OpenAccount("next");
        var owners = bank.NotificationLog.Select(0, 100).Items.Select(n => EventTopics.Deserialize<Account.Opened>(n).Owner).ToList();
        Assert.Equal(["first", "next"], owners); // the session died before its commit record: nothing of it stored
    }

    [PostgresFact]
    public async Task An_asynchronous_save_lost_at_COMMIT_is_unknown_and_one_refused_leaves_the_connection_fit()
    {
        // A save is one round trip on PostgreSQL, its COMMIT included: these are the asynchronous path's
        // outcomes, as the tests above are the synchronous one's.
        using var test = TestStore.Create(StoreLocation.Postgres);
        using var store = Open(test, "async_" + Guid.NewGuid().ToString("N")[..8]);
        var bank = test.OpenBank(store);
        await bank.SaveAsync([Account.Open("first")]);
        var trigger = KillSessions(test, atCommit: true);

        var ex = await Assert.ThrowsAsync<CommitOutcomeUnknownException>(() => bank.SaveAsync([Account.Open("cut")]));
        Assert.Contains("57P01", ex.ToString(), StringComparison.Ordinal);
        Assert.Equal(1L, Scalar<long>(test, "SELECT last_value FROM kills")); // never repeated
        test.Execute("Bank", $"DROP TRIGGER {trigger} ON bank_events");

        // A stale aggregate: refused by the database (its unique index), explained, nothing stored;
        // the same writer connection serves the next save.
        var id = Guid.NewGuid();
        await bank.SaveAsync([Account.Open(id, "stale")]);
        await Assert.ThrowsAsync<ConcurrencyException>(() => bank.SaveAsync([Account.Open(id, "again")]));
        await bank.SaveAsync([Account.Open("next")]);

        var owners = bank.NotificationLog.Select(0, 100).Items.Select(n => EventTopics.Deserialize<Account.Opened>(n).Owner);
        Assert.Equal(["first", "stale", "next"], owners);
        Assert.Equal(3, bank.NotificationLog.MaxNotificationId);
        Assert.Equal(0L, Scalar<long>(test, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction (aborted)'"));
    }

    [PostgresFact]
    public async Task Processes_creating_one_projection_row_table_at_the_same_moment_never_fail()
    {
        for (var round = 0; round < 5; round++)
        {
            using var test = TestStore.Create(StoreLocation.Postgres);
            var stores = Enumerable.Range(0, 6).Select(_ => test.Open()).ToList(); // own connections, as separate processes have
            var applications = stores.Select(s => (Summaries)new Summaries().Open(s)).ToList();
            using var start = new Barrier(applications.Count);
            var creators = applications.Select(app => Task.Factory.StartNew(() =>
            {
                start.SignalAndWait();
                return app.Query<OrderSummary>().Count();
            }, TaskCreationOptions.LongRunning)).ToList();
            Assert.All(await Task.WhenAll(creators), count => Assert.Equal(0, count));
        }
    }

    [PostgresFact]
    public void A_notification_id_already_taken_is_reported_as_a_failed_id_lock_not_as_a_stale_aggregate()
    {
        using var test = TestStore.Create(StoreLocation.Postgres);
        var bank = test.OpenBank(test.Open());
        bank.OpenAccount("a");
        bank.OpenAccount("b");
        // Stand-in for a writer that bypassed the lock: the insert of id 3 meets "its" primary key.
        test.Execute("Bank", """
            CREATE FUNCTION collide() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.notification_id = 3 THEN
                    RAISE unique_violation USING MESSAGE = 'duplicate key value violates unique constraint "bank_events_pkey"',
                        CONSTRAINT = 'bank_events_pkey', TABLE = 'bank_events';
                END IF;
                RETURN NEW;
            END $$
            """);
        test.Execute("Bank", "CREATE TRIGGER collide BEFORE INSERT ON bank_events FOR EACH ROW EXECUTE FUNCTION collide()");

        var ex = Assert.Throws<InvalidOperationException>(() => bank.OpenAccount("c"));
        Assert.Contains("'Bank'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("notification id 3", ex.Message, StringComparison.Ordinal);
        Assert.Contains("lock", ex.Message, StringComparison.Ordinal);
        Assert.IsType<PostgresException>(ex.InnerException);
        Assert.Equal(2, bank.NotificationLog.MaxNotificationId); // nothing of it stored

        // A stale aggregate is still a ConcurrencyException.
        test.Execute("Bank", "DROP TRIGGER collide ON bank_events");
        var id = bank.OpenAccount("c");
        Assert.Equal(3, bank.NotificationLog.MaxNotificationId);
        var stale = test.OpenBank(test.Open()).Repository.Get<Account>(id);
        bank.Deposit(id, 1);
        stale.Deposit(2);
        Assert.Throws<ConcurrencyException>(() => test.OpenBank(test.Open()).Save(stale));
    }

    private static PostgresPersistence Open(TestStore test, string applicationName)
    {
        var connectionString = new NpgsqlConnectionStringBuilder(test.Location.Location) { ApplicationName = applicationName }.ConnectionString;
        return Persistence.Postgres(connectionString, new PostgresOptions { Schema = test.Location.Schema, NotifyChannel = test.Location.Schema! });
    }

    private static int Terminate(string applicationName) =>
        (int)PostgresServer.Scalar<long>(PostgresServer.ConnectionString!,
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = @name) t", ("name", applicationName));

    /// <summary>
    /// A trigger on <c>bank_events</c> that counts itself in the sequence <c>kills</c> and terminates its
    /// own session: before each inserted row, or (deferred) while the transaction commits. Returns its name.
    /// </summary>
    private static string KillSessions(TestStore test, bool atCommit)
    {
        var name = atCommit ? "kill_at_commit" : "kill_on_insert";
        test.Execute("Bank", "CREATE SEQUENCE kills");
        test.Execute("Bank", $$"""
            CREATE FUNCTION {{name}}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM nextval('kills');
                PERFORM pg_terminate_backend(pg_backend_pid());
                RETURN {{(atCommit ? "NULL" : "NEW")}};
            END $$
            """);
        test.Execute("Bank", atCommit
            ? $"CREATE CONSTRAINT TRIGGER {name} AFTER INSERT ON bank_events DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {name}()"
            : $"CREATE TRIGGER {name} BEFORE INSERT ON bank_events FOR EACH ROW EXECUTE FUNCTION {name}()");
        return name;
    }

    private static T Scalar<T>(TestStore test, string sql) =>
        PostgresServer.Scalar<T>(new NpgsqlConnectionStringBuilder(test.Location.Location) { SearchPath = test.Location.Schema }.ConnectionString, sql);
}

/// <summary>A second projection row type, so a table is created after the writer connection was cut.</summary>
[LinqToDB.Mapping.Table("projection_row")]
public sealed class ProjectionRow
{
    [LinqToDB.Mapping.PrimaryKey] public Guid Id { get; set; }
}
