using LinqToDB;
using LinqToDB.Data;
using ProcessDsl.Tests.Support;

namespace ProcessDsl.Tests;

public sealed class ApplicationTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private Bank OpenBank(Persistence store) => (Bank)new Bank().Open(store);

    [Fact]
    public void Saved_aggregates_are_reconstructed_from_their_events()
    {
        using var store = Persistence.Sqlite(_dir.Path);
        var bank = OpenBank(store);
        var id = bank.OpenAccount("alice");
        bank.Deposit(id, 10);
        bank.Deposit(id, 2.5m);

        using var again = Persistence.Sqlite(_dir.Path);
        var account = OpenBank(again).Repository.Get<Account>(id);
        Assert.Equal("alice", account.Owner);
        Assert.Equal(12.5m, account.Balance);
        Assert.Equal(3, account.Version);
        Assert.Empty(account.PendingEvents);
        Assert.True(OpenBank(again).Repository.Contains(id));
        Assert.False(OpenBank(again).Repository.Contains(Guid.NewGuid()));
        Assert.Throws<AggregateNotFoundException>(() => OpenBank(again).Repository.Get<Account>(Guid.NewGuid()));
    }

    [Fact]
    public void Events_saved_together_are_stored_exactly_like_single_ones()
    {
        using var store = Persistence.Sqlite(_dir.Path);
        var bank = OpenBank(store);
        var single = bank.OpenAccount("single");
        var many = Enumerable.Range(0, 450).Select(i => Account.Open("many" + i)).ToArray(); // more than one INSERT statement
        bank.Save(many);
        using var db = new DataConnection(bank.Store.ReadOptions);
        var types = db.Query<string>("SELECT DISTINCT typeof(originator_id) || ',' || typeof(state) || ',' || typeof(topic) FROM bank_events").ToList();
        Assert.Equal("blob,blob,text", Assert.Single(types));
        Assert.Equal("single", bank.Repository.Get<Account>(single).Owner);
        foreach (var account in many) Assert.Equal(account.Owner, OpenBank(store).Repository.Get<Account>(account.Id).Owner);
        Assert.Equal(Enumerable.Range(1, 451).Select(i => (long)i), bank.NotificationLog.Select(0, 1000).Items.Select(n => n.Id));
    }

    [Fact]
    public void Tables_are_created_idempotently_and_named_after_the_application()
    {
        using (var store = Persistence.Sqlite(_dir.Path)) OpenBank(store).OpenAccount("a");
        using (var store = Persistence.Sqlite(_dir.Path)) OpenBank(store).OpenAccount("b");
        using var check = Persistence.Sqlite(_dir.Path);
        Assert.True(File.Exists(Path.Combine(_dir.Path, "bank.db")));
        Assert.Equal(2, OpenBank(check).NotificationLog.MaxNotificationId);
    }

    [Fact]
    public void Saving_several_aggregates_is_atomic()
    {
        using var store = Persistence.Sqlite(_dir.Path);
        var bank = OpenBank(store);
        var id = bank.OpenAccount("a");
        var stale = bank.Repository.Get<Account>(id);
        bank.Deposit(id, 1); // version 2 now stored

        var fresh = Account.Open("b");
        stale.Deposit(5); // conflicts: version 2 is taken
        var ex = Assert.Throws<ConcurrencyException>(() => bank.Save(fresh, stale));
        Assert.Equal(id, ex.AggregateId);
        Assert.False(bank.Repository.Contains(fresh.Id));
        Assert.Equal(2, bank.NotificationLog.MaxNotificationId);
    }

    [Fact]
    public void Optimistic_concurrency_rejects_the_second_of_two_changed_copies_and_stores_nothing_of_it()
    {
        using var store = Persistence.Sqlite(_dir.Path);
        var bank = OpenBank(store);
        var id = bank.OpenAccount("a");
        var first = bank.Repository.Get<Account>(id);
        var second = bank.Repository.Get<Account>(id);
        first.Deposit(1);
        second.Deposit(100);
        second.Deposit(1000);
        bank.Save(first);

        var ex = Assert.Throws<ConcurrencyException>(() => bank.Save(second));
        Assert.Equal(id, ex.AggregateId);
        Assert.Equal(2, ex.Version);
        Assert.Contains(id.ToString(), ex.Message);
        Assert.Contains("Bank", ex.Message);

        var stored = bank.Repository.Get<Account>(id);
        Assert.Equal(1m, stored.Balance);
        Assert.Equal(2, stored.Version);
        Assert.Equal(2, bank.NotificationLog.MaxNotificationId);
    }

    [Fact]
    public void The_cache_never_serves_a_stale_version_after_another_writer_or_a_conflict()
    {
        using var storeA = Persistence.Sqlite(_dir.Path);
        using var storeB = Persistence.Sqlite(_dir.Path);
        var a = OpenBank(storeA);
        var b = OpenBank(storeB);
        var id = a.OpenAccount("x");
        Assert.Equal(0m, a.Repository.Get<Account>(id).Balance); // cached in a

        b.Deposit(id, 7); // another writer (its own connection and cache)
        Assert.Equal(7m, a.Repository.Get<Account>(id).Balance);

        var stale = a.Repository.Get<Account>(id);
        b.Deposit(id, 1);
        stale.Deposit(100);
        Assert.Throws<ConcurrencyException>(() => a.Save(stale));
        var now = a.Repository.Get<Account>(id);
        Assert.Equal(8m, now.Balance);
        Assert.Equal(3, now.Version);
    }

    [Fact]
    public async Task Concurrent_writers_get_contiguous_ids_and_a_reader_never_sees_an_id_below_one_it_saw()
    {
        using var storeA = Persistence.Sqlite(_dir.Path);
        using var storeB = Persistence.Sqlite(_dir.Path); // a second connection to the same file
        var banks = new[] { OpenBank(storeA), OpenBank(storeB) };
        const int threads = 6, perThread = 60;
        var violations = 0;
        using var stop = new CancellationTokenSource();
        var reader = Task.Run(() =>
        {
            using var readStore = Persistence.Sqlite(_dir.Path);
            var log = OpenBank(readStore).NotificationLog;
            long seen = 0;
            var known = new HashSet<long>();
            while (!stop.IsCancellationRequested)
            {
                var batch = log.Select(0, 100_000);
                foreach (var n in batch.Items)
                    if (!known.Contains(n.Id) && n.Id < seen) Interlocked.Increment(ref violations);
                foreach (var n in batch.Items)
                {
                    known.Add(n.Id);
                    seen = Math.Max(seen, n.Id);
                }
                // Contiguity of what is visible at any moment: 1..max, no holes.
                if (batch.Items.Count != batch.Position) Interlocked.Increment(ref violations);
            }
        });
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            for (var i = 0; i < perThread; i++) banks[t % 2].OpenAccount($"t{t}-{i}");
        });
        stop.Cancel();
        await reader;

        var all = banks[0].NotificationLog.Select(0, 100_000).Items;
        Assert.Equal(Enumerable.Range(1, threads * perThread).Select(i => (long)i), all.Select(n => n.Id));
        Assert.Equal(threads * perThread, all.Select(n => n.OriginatorId).Distinct().Count());
        Assert.Equal(0, violations);
    }

    [Fact]
    public async Task Concurrent_saves_committed_together_keep_their_own_outcomes()
    {
        using var store = Persistence.Sqlite(_dir.Path);
        var bank = OpenBank(store);
        var contested = bank.OpenAccount("contested");
        var copies = Enumerable.Range(0, 8).Select(_ => bank.Repository.Get<Account>(contested)).ToList();
        var conflicts = 0;
        var saved = new System.Collections.Concurrent.ConcurrentBag<(Guid Id, long Last)>();
        using var start = new Barrier(24);
        var tasks = Enumerable.Range(0, 24).Select(i => Task.Run(() =>
        {
            start.SignalAndWait();
            if (i < copies.Count)
            {
                // Eight copies of one aggregate at version 1: exactly one may become version 2.
                copies[i].Deposit(i + 1);
                try
                {
                    bank.Save(copies[i]);
                }
                catch (ConcurrencyException ex)
                {
                    Assert.Equal(contested, ex.AggregateId);
                    Interlocked.Increment(ref conflicts);
                }
            }
            else
            {
                var fresh = Account.Open("fresh" + i);
                saved.Add((fresh.Id, bank.Save(fresh)));
            }
        })).ToArray();
        await Task.WhenAll(tasks);

        Assert.Equal(7, conflicts);
        Assert.Equal(2, bank.Repository.Get<Account>(contested).Version);
        var log = bank.NotificationLog.Select(0, 1000).Items;
        Assert.Equal(Enumerable.Range(1, 1 + 1 + 16).Select(i => (long)i), log.Select(n => n.Id));
        // Each save was told the id its own event got.
        foreach (var (id, last) in saved) Assert.Equal(id, log.Single(n => n.Id == last).OriginatorId);
    }

    [Fact]
    public void An_unknown_topic_in_the_store_is_an_error_naming_application_notification_and_topic()
    {
        using var store = Persistence.Sqlite(_dir.Path);
        var bank = OpenBank(store);
        var id = bank.OpenAccount("a");
        bank.Deposit(id, 1);
        Tamper(store, "UPDATE bank_events SET topic = 'tests.gone' WHERE notification_id = 2");

        using var fresh = Persistence.Sqlite(_dir.Path);
        var ex = Assert.Throws<EventDeserializationException>(() => OpenBank(fresh).Repository.Get<Account>(id));
        Assert.Equal("Bank", ex.Application);
        Assert.Equal(2, ex.NotificationId);
        Assert.Equal("tests.gone", ex.Topic);
        Assert.Contains("Bank", ex.Message);
        Assert.Contains("notification 2", ex.Message);
        Assert.Contains("tests.gone", ex.Message);
    }

    [Fact]
    public void A_corrupt_payload_is_an_error_naming_application_notification_and_topic()
    {
        using var store = Persistence.Sqlite(_dir.Path);
        var bank = OpenBank(store);
        var id = bank.OpenAccount("a");
        Tamper(store, "UPDATE bank_events SET state = X'7B2262726F6B656E' WHERE notification_id = 1");

        using var fresh = Persistence.Sqlite(_dir.Path);
        var ex = Assert.Throws<EventDeserializationException>(() => OpenBank(fresh).Repository.Get<Account>(id));
        Assert.Equal("Bank", ex.Application);
        Assert.Equal(1, ex.NotificationId);
        Assert.Equal("tests.account.opened", ex.Topic);
        Assert.NotNull(ex.InnerException);
    }

    [Fact]
    public void Application_names_that_are_not_safe_identifiers_are_rejected()
    {
        using var store = Persistence.Sqlite(_dir.Path);
        Assert.Throws<ArgumentException>(() => new Named("bad; DROP TABLE x").Open(store));
        Assert.Throws<ArgumentException>(() => new Named("1abc").Open(store));
        Assert.Throws<ArgumentException>(() => new Named("").Open(store));
    }

    [Fact]
    public void In_memory_store_works_and_is_removed_on_dispose()
    {
        string directory;
        using (var store = Persistence.InMemory())
        {
            directory = store.RowsDirectory;
            var bank = OpenBank(store);
            var id = bank.OpenAccount("m");
            bank.Deposit(id, 3);
            Assert.Equal(3m, bank.Repository.Get<Account>(id).Balance);
        }
        Assert.False(Directory.Exists(directory));
    }

    private static void Tamper(SqlitePersistence store, string sql)
    {
        using var db = new DataConnection(new DataOptions().UseSQLite($"Data Source={store.DatabasePath("Bank")}", LinqToDB.DataProvider.SQLite.SQLiteProvider.Microsoft));
        db.Execute(sql);
    }

    private sealed class Named(string name) : Application
    {
        public override string Name => name;
    }
}
