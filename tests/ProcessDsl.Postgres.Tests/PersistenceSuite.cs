using System.Collections.Concurrent;
using ProcessDsl.Postgres.Tests.Support;

namespace ProcessDsl.Postgres.Tests;

/// <summary>
/// The persistence suite, once per store: every theory runs on SQLite (a fresh folder) and on
/// PostgreSQL (a fresh schema; skipped with the reason when PROCESSDSL_POSTGRES is not set).
/// </summary>
public sealed class PersistenceSuite
{
    private static readonly TimeSpan ChildTimeout = TimeSpan.FromMinutes(3);

    [Theory, SqliteStore, PostgresStore]
    public void Saved_aggregates_come_back_and_tables_are_created_idempotently(string kind)
    {
        using var test = TestStore.Create(kind);
        Guid id;
        using (var store = test.Open())
        {
            var bank = test.OpenBank(store);
            id = bank.OpenAccount("alice");
            bank.Deposit(id, 10);
            bank.Deposit(id, 2.5m);
        }
        using (var again = test.Open())
        {
            var bank = test.OpenBank(again);
            var account = bank.Repository.Get<Account>(id);
            Assert.Equal("alice", account.Owner);
            Assert.Equal(12.5m, account.Balance);
            Assert.Equal(3, account.Version);
            Assert.Equal(3, bank.NotificationLog.MaxNotificationId);
            Assert.False(bank.Repository.Contains(Guid.NewGuid()));
        }
    }

    [Theory, SqliteStore, PostgresStore, MemoryStore]
    public void Stored_state_leaves_the_aggregate_id_and_version_to_the_columns_and_reading_restores_them(string kind)
    {
        using var test = TestStore.Create(kind);
        using var store = test.Open();
        var bank = test.OpenBank(store);
        var id = bank.OpenAccount("alice");
        bank.Deposit(id, 10);

        var stored = bank.NotificationLog.Select(0, 10).Items;
        Assert.Equal(2, stored.Count);
        foreach (var notification in stored)
        {
            var state = System.Text.Json.Nodes.JsonNode.Parse(notification.State)!.AsObject();
            Assert.False(state.ContainsKey("OriginatorId"), kind);
            Assert.False(state.ContainsKey("OriginatorVersion"), kind);
            Assert.True(state.ContainsKey("Timestamp"), kind);
            var read = EventTopics.Deserialize(notification);
            Assert.Equal((id, notification.OriginatorVersion), (read.OriginatorId, read.OriginatorVersion));
        }
        Assert.Equal("alice", EventTopics.Deserialize<Account.Opened>(stored[0]).Owner);
        Assert.Equal([1L, 2L], stored.Select(n => n.OriginatorVersion));
        var account = test.OpenBank(test.Open()).Repository.Get<Account>(id);
        Assert.Equal((id, 2L, 10m), (account.Id, account.Version, account.Balance));
    }

    [Theory, SqliteStore, PostgresStore, MemoryStore, WrappedStore]
    public async Task Concurrent_writer_threads_get_contiguous_ids_and_a_reader_never_sees_an_id_below_one_it_saw(string kind)
    {
        using var test = TestStore.Create(kind);
        var banks = Enumerable.Range(0, 3).Select(_ => test.OpenBank(test.Open())).ToArray(); // three independent stores
        const int threads = 6, perThread = 60;
        using var stop = new CancellationTokenSource();
        var reader = Task.Run(() => ReadAlongside(test, stop.Token));
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            for (var i = 0; i < perThread; i++) banks[t % banks.Length].OpenAccount($"t{t}-{i}");
        });
        await stop.CancelAsync();
        var violations = await reader;

        AssertContiguous(banks[0], threads * perThread);
        Assert.Empty(violations);
    }

    [Theory, SqliteStore, PostgresStore]
    public async Task Concurrent_writer_processes_get_contiguous_ids_and_a_reader_never_sees_an_id_below_one_it_saw(string kind)
    {
        using var test = TestStore.Create(kind);
        using (var store = test.Open()) test.OpenBank(store); // tables exist before the race (creation races are tested apart)
        const int processes = 3, perProcess = 150, inProcess = 100;
        var children = Enumerable.Range(0, processes)
            .Select(p => ChildProcess.Start(["write"], test.Location.ToArgs(), [perProcess.ToString(System.Globalization.CultureInfo.InvariantCulture), $"p{p}"]))
            .ToList();
        try
        {
            foreach (var child in children) await child.WaitReadyAsync(ChildTimeout);
            using var stop = new CancellationTokenSource();
            var reader = Task.Run(() => ReadAlongside(test, stop.Token));
            foreach (var child in children) child.Send("go");
            var bank = test.OpenBank(test.Open());
            var local = Task.Run(() =>
            {
                for (var i = 0; i < inProcess; i++) bank.OpenAccount($"local-{i}");
            });
            foreach (var child in children) await child.WaitSuccessAsync(ChildTimeout);
            await local;
            await stop.CancelAsync();
            var violations = await reader;

            var all = AssertContiguous(bank, processes * perProcess + inProcess);
            foreach (var child in children) Assert.Contains($"wrote {perProcess}", child.Output);
            // Every writer's events are all there, each once.
            var owners = all.Select(n => EventTopics.Deserialize<Account.Opened>(n).Owner).ToList();
            Assert.Equal(owners.Count, owners.Distinct().Count());
            for (var p = 0; p < processes; p++) Assert.Equal(perProcess, owners.Count(o => o.StartsWith($"p{p}-", StringComparison.Ordinal)));
            Assert.Empty(violations);
        }
        finally
        {
            foreach (var child in children) child.Dispose();
        }
    }

    [Theory, SqliteStore, PostgresStore, MemoryStore, WrappedStore]
    public void Optimistic_concurrency_rejects_the_second_of_two_changed_copies_and_stores_nothing_of_it(string kind)
    {
        using var test = TestStore.Create(kind);
        var a = test.OpenBank(test.Open());
        var b = test.OpenBank(test.Open()); // another process, as far as caches and connections go
        var id = a.OpenAccount("x");
        var first = a.Repository.Get<Account>(id);
        var second = b.Repository.Get<Account>(id);
        first.Deposit(1);
        second.Deposit(100);
        second.Deposit(1000);
        var fresh = Account.Open("y");
        a.Save(first);

        var ex = Assert.Throws<ConcurrencyException>(() => b.Save(fresh, second));
        Assert.Equal(id, ex.AggregateId);
        Assert.Equal(2, ex.Version);
        Assert.Contains("Bank", ex.Message);
        Assert.Contains(id.ToString(), ex.Message);

        Assert.False(b.Repository.Contains(fresh.Id)); // the whole save was rolled back
        var stored = b.Repository.Get<Account>(id);
        Assert.Equal(1m, stored.Balance);
        Assert.Equal(2, stored.Version);
        Assert.Equal(2, b.NotificationLog.MaxNotificationId);
        b.Save(Account.Open("z")); // and the next save gets the next id
        Assert.Equal(3, a.NotificationLog.MaxNotificationId);
    }

    [Theory, SqliteStore, PostgresStore, MemoryStore, WrappedStore]
    public void Notification_log_sections_follow_the_worked_examples(string kind)
    {
        using var test = TestStore.Create(kind);
        var bank = test.OpenBank(test.Open(), sectionSize: 5);
        var log = bank.NotificationLog;

        var empty = log["current"];
        Assert.Equal("1,5", empty.Id);
        Assert.Empty(empty.Items);
        Assert.Null(empty.PreviousId);
        Assert.Null(empty.NextId);

        for (var i = 0; i < 9; i++) bank.OpenAccount("o" + i);
        var current = log["current"];
        Assert.Equal("6,10", current.Id);
        Assert.Equal([6L, 7, 8, 9], current.Items.Select(n => n.Id));
        Assert.Equal("1,5", current.PreviousId);
        Assert.Null(current.NextId);
        var first = log["1,10"];
        Assert.Equal("1,5", first.Id);
        Assert.Equal([1L, 2, 3, 4, 5], first.Items.Select(n => n.Id));
        Assert.Equal("6,10", first.NextId);
        Assert.All(first.Items, n => Assert.Equal(Topics.Opened, n.Topic));

        for (var i = 0; i < 4; i++) bank.OpenAccount("p" + i);
        current = log["current"];
        Assert.Equal("11,15", current.Id);
        Assert.Equal(3, current.Items.Count);
        Assert.Equal("6,10", current.PreviousId);
        Assert.Equal(first.Items.Select(n => n.OriginatorId), log["1,5"].Items.Select(n => n.OriginatorId)); // archived: unchanged

        Assert.Throws<ArgumentException>(() => log["0,5"]);
        Assert.Throws<ArgumentException>(() => log["a,b"]);
    }

    [Theory, SqliteStore, PostgresStore, MemoryStore, WrappedStore]
    public async Task A_reader_reads_everything_once_and_resumes_from_a_stored_position(string kind)
    {
        using var test = TestStore.Create(kind);
        var bank = test.OpenBank(test.Open(), sectionSize: 4);
        for (var i = 0; i < 10; i++) bank.OpenAccount("a" + i);

        var reader = new NotificationLogReader(bank.NotificationLog);
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), reader.Read().Select(n => n.Id));
        Assert.Empty(reader.Read());
        var saved = reader.Position;

        for (var i = 0; i < 3; i++) bank.OpenAccount("b" + i);
        var resumed = new NotificationLogReader(test.OpenBank(test.Open()).NotificationLog).Seek(saved);
        var streamed = new List<long>();
        await foreach (var n in resumed.ReadAsync()) streamed.Add(n.Id);
        Assert.Equal([11L, 12, 13], streamed);
    }

    [Theory, SqliteStore, PostgresStore, MemoryStore, WrappedStore]
    public async Task Two_followers_racing_process_each_upstream_event_exactly_once(string kind)
    {
        using var test = TestStore.Create(kind);
        const int events = 300;
        var bank = test.OpenBank(test.Open());
        for (var i = 0; i < events; i++) bank.OpenAccount("r" + i);

        // Two independent workers of the same follower (own stores, caches and positions) race.
        var options = new RunnerOptions
        {
            Processing = new ProcessingOptions { MaxBatchSize = 7, TransientAttempts = 10_000, InitialBackoff = TimeSpan.FromMilliseconds(1) },
        };
        var runners = Enumerable.Range(0, 2).Select(_ => new SingleThreadedRunner(AuditSystem.Definition, test.Open(), options)).ToArray();
        try
        {
            await Task.WhenAll(runners.Select(r => Task.Run(() => r.StartAsync())));
            AssertAuditedExactlyOnce(test, events);
        }
        finally
        {
            foreach (var runner in runners) await runner.DisposeAsync();
        }
    }

    [Theory, SqliteStore, PostgresStore]
    public async Task Followers_in_separate_processes_racing_process_each_upstream_event_exactly_once(string kind)
    {
        using var test = TestStore.Create(kind);
        const int events = 400;
        var bank = test.OpenBank(test.Open());
        for (var i = 0; i < events; i++) bank.OpenAccount("r" + i);

        var children = Enumerable.Range(0, 3).Select(_ => ChildProcess.Start(["follow"], test.Location.ToArgs(), ["5"])).ToList();
        try
        {
            foreach (var child in children) await child.WaitSuccessAsync(ChildTimeout);
        }
        finally
        {
            foreach (var child in children) child.Dispose();
        }
        AssertAuditedExactlyOnce(test, events);
    }

    [Theory, SqliteStore, PostgresStore]
    public void An_unknown_topic_in_the_store_is_an_error_naming_application_notification_and_topic(string kind)
    {
        using var test = TestStore.Create(kind);
        var bank = test.OpenBank(test.Open());
        var id = bank.OpenAccount("a");
        bank.Deposit(id, 1);
        test.Execute("Bank", "UPDATE bank_events SET topic = @topic WHERE notification_id = @id", ("topic", "pgtests.gone"), ("id", 2L));

        var fresh = test.OpenBank(test.Open());
        var ex = Assert.Throws<EventDeserializationException>(() => fresh.Repository.Get<Account>(id));
        Assert.Equal("Bank", ex.Application);
        Assert.Equal(2, ex.NotificationId);
        Assert.Equal("pgtests.gone", ex.Topic);
        Assert.Contains("notification 2", ex.Message);
        Assert.Contains("pgtests.gone", ex.Message);
    }

    [Theory, SqliteStore, PostgresStore]
    public async Task A_corrupt_payload_is_an_error_naming_application_notification_and_topic_and_stops_the_follower(string kind)
    {
        using var test = TestStore.Create(kind);
        var bank = test.OpenBank(test.Open());
        var id = bank.OpenAccount("a");
        bank.OpenAccount("b");
        test.Execute("Bank", "UPDATE bank_events SET state = @state WHERE notification_id = @id", ("state", "{\"broken"u8.ToArray()), ("id", 1L));

        var fresh = test.OpenBank(test.Open());
        var ex = Assert.Throws<EventDeserializationException>(() => fresh.Repository.Get<Account>(id));
        Assert.Equal("Bank", ex.Application);
        Assert.Equal(1, ex.NotificationId);
        Assert.Equal(Topics.Opened, ex.Topic);
        Assert.NotNull(ex.InnerException);

        var options = new RunnerOptions { Processing = new ProcessingOptions { PolicyAttempts = 2, InitialBackoff = TimeSpan.FromMilliseconds(1) } };
        await using var runner = new SingleThreadedRunner(AuditSystem.Definition, test.Open(), options);
        await runner.StartAsync();
        var failure = await Assert.ThrowsAsync<ProcessingException>(() => runner.WaitUntilIdleAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("Audit", failure.Message);
        Assert.Contains(Topics.Opened, failure.Message);
        Assert.Equal(0, runner.Get<Audit>().NotificationLog.MaxNotificationId); // nothing skipped silently
    }

    [Theory, SqliteStore, PostgresStore]
    public void Many_stores_opening_the_same_application_at_once_create_its_tables_once(string kind)
    {
        using var test = TestStore.Create(kind);
        var errors = new ConcurrentBag<Exception>();
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            try
            {
                test.OpenBank(test.Open()).OpenAccount("c" + i);
            }
            catch (Exception ex)
            {
                errors.Add(ex);
            }
        });
        Assert.Empty(errors);
        AssertContiguous(test.OpenBank(test.Open()), 8);
    }

    /// <summary>Reads the whole log repeatedly until cancelled; returns what looked wrong.</summary>
    private static List<string> ReadAlongside(TestStore test, CancellationToken stop)
    {
        var violations = new List<string>();
        using var store = test.Open();
        var log = test.OpenBank(store).NotificationLog;
        long seen = 0;
        var known = new HashSet<long>();
        var reads = 0;
        while (!stop.IsCancellationRequested || reads == 0)
        {
            reads++;
            var batch = log.Select(0, 1_000_000);
            foreach (var n in batch.Items)
                if (!known.Contains(n.Id) && n.Id < seen) violations.Add($"id {n.Id} appeared after {seen} was seen");
            foreach (var n in batch.Items)
            {
                known.Add(n.Id);
                seen = Math.Max(seen, n.Id);
            }
            if (batch.Items.Count != batch.Position) violations.Add($"read {batch.Items.Count} notifications up to {batch.Position}: a hole");
        }
        return violations;
    }

    private static IReadOnlyList<Notification> AssertContiguous(Bank bank, int expected)
    {
        var all = bank.NotificationLog.Select(0, 1_000_000).Items;
        Assert.Equal(Enumerable.Range(1, expected).Select(i => (long)i), all.Select(n => n.Id));
        Assert.Equal(expected, all.Select(n => n.OriginatorId).Distinct().Count());
        return all;
    }

    private static void AssertAuditedExactlyOnce(TestStore test, int events)
    {
        using var store = test.Open();
        var audit = (Audit)new Audit().Open(store);
        var recorded = audit.NotificationLog.Select(0, 1_000_000).Items;
        var upstreamIds = recorded.Select(n => EventTopics.Deserialize<AuditEntry.Recorded>(n).UpstreamId).Order().ToList();
        Assert.Equal(Enumerable.Range(1, events).Select(i => (long)i), upstreamIds);
        Assert.Equal(Enumerable.Range(1, events).Select(i => (long)i), recorded.Select(n => n.Id)); // the follower's own log contiguous too
    }
}
