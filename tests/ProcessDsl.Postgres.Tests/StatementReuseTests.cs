using LinqToDB.Metrics;
using ProcessDsl.Postgres.Tests.Support;
using ProcessDsl.Tests.Support;

namespace ProcessDsl.Postgres.Tests;

/// <summary>
/// The hot paths (a command's save, a step's read, policies, projection rows, tracking, commit) build
/// every statement once: after a warm-up, LinqToDB creates no query from an expression and builds no
/// SQL text however many orders go through (a LINQ query on any of them, even one found in LinqToDB's
/// cache, builds its SQL text on every run). Counted through LinqToDB's activity hooks, on the test's
/// own flow only (other tests run in parallel and are not counted).
/// </summary>
public sealed class StatementReuseTests
{
    private static readonly AsyncLocal<Counter?> s_counting = new();

    static StatementReuseTests() => ActivityService.AddFactory(id => s_counting.Value?.Count(id));

    private sealed class Counter
    {
        private int _queriesCreated;
        private int _sqlBuilt;

        public int QueriesCreated => Volatile.Read(ref _queriesCreated);
        public int SqlBuilt => Volatile.Read(ref _sqlBuilt);

        public IActivity? Count(ActivityID id)
        {
            if (id == ActivityID.GetQueryCreate) Interlocked.Increment(ref _queriesCreated);
            else if (id == ActivityID.BuildSql) Interlocked.Increment(ref _sqlBuilt);
            return null;
        }
    }

    private static Counter CountWhile(Action action)
    {
        var counter = new Counter();
        s_counting.Value = counter;
        try
        {
            action();
        }
        finally
        {
            s_counting.Value = null;
        }
        return counter;
    }

    [Theory, SqliteStore, PostgresStore, MemoryStore]
    public async Task After_a_warm_up_no_order_makes_LinqToDB_build_a_query_or_SQL_text(string kind)
    {
        using var test = TestStore.Create(kind);
        await using var runner = new SingleThreadedRunner(OrdersSystem.Definition, test.Open());
        await runner.StartAsync();
        var orders = runner.Get<Orders>();
        var ids = Enumerable.Range(0, 5).Select(_ => orders.CreateNewOrder()).ToList();   // statements built here

        var counted = CountWhile(() =>
        {
            for (var i = 0; i < 50; i++) ids.Add(orders.CreateNewOrder());
        });
        Assert.Equal(0, counted.QueriesCreated);
        Assert.Equal(0, counted.SqlBuilt);
        OrdersChecks.AllReservedAndPaidExactlyOnce(runner, ids);

        // The probe sees LinqToDB at work: a query of a new shape is created and its SQL built.
        var probe = CountWhile(() =>
            _ = runner.Get<Summaries>().Query<OrderSummary>().Count(s => s.Status.StartsWith("pa") && s.OrderId != Guid.Empty));
        Assert.True(probe.QueriesCreated > 0);
        Assert.True(probe.SqlBuilt > 0);
    }
}
