using LinqToDB;
using LinqToDB.Data;
using ProcessDsl.Postgres.Tests.Shop;
using ProcessDsl.Postgres.Tests.Support;

namespace ProcessDsl.Postgres.Tests;

/// <summary>
/// A position written past events no policy handles commits without waiting for the disk
/// (SQLite <c>synchronous=NORMAL</c>, PostgreSQL <c>synchronous_commit = off</c>); every other
/// commit, before and after it on the same connection, keeps the store's full durability.
/// </summary>
public sealed class PositionWriteTests
{
    [Theory, SqliteStore, PostgresStore]
    public async Task A_position_past_unhandled_events_commits_relaxed_and_every_other_commit_stays_durable(string kind)
    {
        using var test = TestStore.Create(kind);
        using var store = new DurabilityProbe(test.Open());
        await using var runner = new SingleThreadedRunner(ShopSystem.Definition, store);
        await runner.StartAsync();
        var shop = runner.Get<Shop.Shop>();
        var (relaxed, durable) = test.IsPostgres ? ("off", "on") : ("1", "2");

        for (var i = 0; i < 3; i++)
        {
            var item = Item.List("item " + i);
            shop.Add(item);                              // Item.Listed: nothing for Tills
            var listed = shop.NotificationLog.MaxNotificationId;
            Assert.Equal(listed, TillsPosition(store));   // written before the save returned
            Assert.Equal((true, relaxed), store.LastCommit("Tills"));

            item.Sell();
            shop.Add(item);                              // Item.Sold: a receipt, in a step of its own
            Assert.Equal((false, durable), store.LastCommit("Tills"));
            Assert.Equal(shop.NotificationLog.MaxNotificationId, TillsPosition(store));
        }

        Assert.Equal(3, runner.Get<Tills>().NotificationLog.MaxNotificationId);   // one receipt per sale
        Assert.All(store.CommitsOf("Tills").Where(c => !c.PositionWrite), c => Assert.Equal(durable, c.Level));
        Assert.All(store.CommitsOf("Catalog"), c => Assert.Equal((false, durable), c));   // Catalog handles every topic
        Assert.All(store.CommitsOf("Shop"), c => Assert.Equal((false, durable), c));
        Assert.Equal(3, store.CommitsOf("Tills").Count(c => c.PositionWrite));
        Assert.NotEmpty(store.LevelsAfterPositionWrites);
        Assert.All(store.LevelsAfterPositionWrites, level => Assert.Equal(durable, level));
    }

    private static long TillsPosition(Persistence store) =>
        SystemStatus.Read(ShopSystem.Definition, store).Single(a => a.Application == "Tills").Following.Single().Position;

    /// <summary>Records, for each commit of an application's writer, whether it was a position write and the durability it ran with.</summary>
    private sealed class DurabilityProbe(Persistence inner) : WriterAwarePersistence(inner)
    {
        private readonly List<(string Application, bool PositionWrite, string Level)> _commits = [];
        private bool _inPositionWrite;

        public List<string> LevelsAfterPositionWrites { get; } = [];

        public (bool PositionWrite, string Level) LastCommit(string application)
        {
            var last = _commits.Last(c => c.Application == application);
            return (last.PositionWrite, last.Level);
        }

        public List<(bool PositionWrite, string Level)> CommitsOf(string application) =>
            _commits.Where(c => c.Application == application).Select(c => (c.PositionWrite, c.Level)).ToList();

        protected override void BeginPositionWrite(StoreCommands commands)
        {
            base.BeginPositionWrite(commands);
            _inPositionWrite = true;
        }

        protected override void EndPositionWrite(StoreCommands commands)
        {
            base.EndPositionWrite(commands);
            _inPositionWrite = false;
            LevelsAfterPositionWrites.Add(Level(commands.Db));
        }

        protected override void CommitTransaction(DataConnection db)
        {
            // Read inside the transaction, just before COMMIT: the level its commit runs with.
            if (WriterOf(db) is { } application) _commits.Add((application, _inPositionWrite, Level(db)));
            base.CommitTransaction(db);
        }

        private static string Level(DataConnection db) =>
            db.DataProvider.Name.Contains("PostgreSQL", StringComparison.OrdinalIgnoreCase)
                ? db.Execute<string>("SHOW synchronous_commit")
                : db.Execute<long>("PRAGMA synchronous").ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
