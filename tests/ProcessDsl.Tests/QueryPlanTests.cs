using LinqToDB;
using LinqToDB.Data;
using ProcessDsl.Tests.Support;

namespace ProcessDsl.Tests;

/// <summary>
/// Reading a range of a log, or one aggregate, is one indexed lookup whatever the log's length:
/// checked against SQLite's own query plan for the statements the store prepares.
/// </summary>
public sealed class QueryPlanTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static List<string> Plan(DataConnection db, string sql) =>
        db.Query<PlanRow>("EXPLAIN QUERY PLAN " + sql).Select(r => r.Detail).ToList();

    private sealed class PlanRow
    {
        [LinqToDB.Mapping.Column("detail")] public string Detail { get; set; } = "";
    }

    [Fact]
    public void A_range_of_the_log_is_read_through_the_primary_key_with_or_without_a_topic_filter()
    {
        using var store = Persistence.Sqlite(_dir.Path);
        var bank = (Bank)new Bank().Open(store);
        for (var i = 0; i < 50; i++) bank.OpenAccount("a" + i);
        using var db = new DataConnection(bank.Store.ReadOptions);

        foreach (var topics in new int?[] { null, 1, 2, 5 })
        {
            var plan = Plan(db, ((SqlEventStore)bank.Store).Statements.RangeSql(topics));
            var line = Assert.Single(plan);
            Assert.StartsWith("SEARCH", line);
            Assert.Contains("INTEGER PRIMARY KEY (rowid>? AND rowid<?)", line);
        }
    }

    [Fact]
    public void An_aggregate_is_read_through_its_unique_index()
    {
        using var store = Persistence.Sqlite(_dir.Path);
        var bank = (Bank)new Bank().Open(store);
        var id = bank.OpenAccount("a");
        using var db = new DataConnection(bank.Store.ReadOptions);
        var line = Assert.Single(Plan(db, ((SqlEventStore)bank.Store).Statements.AggregateSql));
        Assert.StartsWith("SEARCH", line);
        Assert.Contains("bank_events_aggregate", line);
    }
}
