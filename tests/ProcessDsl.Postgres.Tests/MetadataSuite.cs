using System.Collections.Concurrent;
using System.Diagnostics;
using Npgsql;
using ProcessDsl.Postgres.Tests.Support;
using ProcessDsl.Tests.Support;

namespace ProcessDsl.Postgres.Tests;

/// <summary>
/// Where events came from, on every store: the trace context, correlation id and causation id of the
/// command or step that recorded an event are stored with it, and a follower's processing of it
/// continues its trace, so one trace and one correlation id follow an order through every
/// application. And the asynchronous commands: <see cref="Application.SaveAsync(Aggregate, CancellationToken)"/>
/// and <see cref="Repository.GetAsync{T}"/>, which on PostgreSQL hold no thread while the server works.
/// </summary>
/// <remarks>
/// The only tests of this assembly that listen to activities, all in this one class (xunit runs a
/// class's tests one after another), so no other test's activities are mistaken for theirs: each
/// keeps only activities of its own trace.
/// </remarks>
public sealed class MetadataSuite
{
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(60);

    [Theory, SqliteStore, PostgresStore, MemoryStore]
    public async Task One_trace_and_one_correlation_id_follow_an_order_through_every_application(string kind)
    {
        using var test = TestStore.Create(kind);
        var stopped = new ConcurrentQueue<Activity>();
        using var requests = new ActivitySource("ProcessDsl.Tests.Requests");
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is ProcessDslDiagnostics.ActivitySourceName or "ProcessDsl.Tests.Requests",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);

        await using var runner = new MultiThreadedRunner(OrdersSystem.Definition, test.Open());
        await runner.StartAsync();
        Guid orderId;
        ActivityTraceId traceId;
        using (var request = requests.StartActivity("POST /orders", ActivityKind.Server))
        using (EventMetadata.Correlate("request-42", causationId: "message-7"))
        {
            Assert.NotNull(request);
            traceId = request.TraceId;
            orderId = runner.Get<Orders>().CreateNewOrder();
        }
        await runner.WaitUntilIdleAsync(Idle);

        // Read back through fresh instances: what a follower sees is what was stored, not a cache.
        var store = test.Open();
        var orders = Log(store, new Orders()).Where(n => n.OriginatorId == orderId).ToList();
        Assert.Equal([typeof(Order.Created), typeof(Order.Reserved), typeof(Order.Paid)], orders.Select(n => EventTopics.Deserialize(n).GetType()));
        var (created, reserved, paid) = (orders[0], orders[1], orders[2]);
        var reservation = Log(store, new Reservations()).Single(n => ((Reservation.Created)EventTopics.Deserialize(n)).OrderId == orderId);
        var payment = Log(store, new Payments()).Single(n => ((Payment.Created)EventTopics.Deserialize(n)).OrderId == orderId);

        // The command's event: the request's trace (through the save's own activity) and the scope's ids.
        Assert.Equal("request-42", created.Metadata?.CorrelationId);
        Assert.Equal("message-7", created.Metadata?.CausationId);
        // Each event recorded by a policy: caused by the upstream event, correlated with the command.
        Assert.Equal($"Orders:{created.Id}", reservation.Metadata?.CausationId);
        Assert.Equal($"Reservations:{reservation.Id}", reserved.Metadata?.CausationId);
        Assert.Equal($"Orders:{reserved.Id}", payment.Metadata?.CausationId);
        Assert.Equal($"Payments:{payment.Id}", paid.Metadata?.CausationId);
        foreach (var n in new[] { created, reservation, reserved, payment, paid })
        {
            Assert.Equal("request-42", n.Metadata?.CorrelationId);
            Assert.Equal(traceId, TraceOf(n));
        }

        // The activities of that one trace: the request, the save, and each application's
        // processing of each event, each parented to the span stored with the event it processed
        // and linked to the step it ran in.
        var trace = stopped.Where(a => a.TraceId == traceId).ToList();
        var save = Assert.Single(trace, a => a.DisplayName == "Orders save");
        Assert.Equal(ActivityKind.Producer, save.Kind);
        Assert.Equal(SpanOf(created), save.SpanId);
        AssertProcessed(stopped, trace, "Reservations processes", created, reservation, "Reservations follows Orders");
        AssertProcessed(stopped, trace, "Orders processes", reservation, reserved, "Orders follows Reservations");
        AssertProcessed(stopped, trace, "Payments processes", reserved, payment, "Payments follows Orders");
        AssertProcessed(stopped, trace, "Orders processes", payment, paid, "Orders follows Payments");
        var summary = Assert.Single(trace, a => a.DisplayName.StartsWith("Summaries processes", StringComparison.Ordinal) && a.ParentSpanId == SpanOf(created));
        Assert.Equal(created.Id, summary.GetTagItem("processdsl.notification_id"));
    }

    [Theory, SqliteStore, PostgresStore, MemoryStore]
    public async Task A_command_without_trace_or_correlation_stores_no_metadata_and_its_first_event_correlates_the_rest(string kind)
    {
        using var test = TestStore.Create(kind);
        await using var runner = new SingleThreadedRunner(OrdersSystem.Definition, test.Open());
        await runner.StartAsync();
        Assert.Null(Activity.Current);
        var orderId = runner.Get<Orders>().CreateNewOrder();   // no listener in this test: no activity to store
        await runner.WaitUntilIdleAsync(Idle);

        var store = test.Open();
        var orders = Log(store, new Orders()).Where(n => n.OriginatorId == orderId).ToList();
        Assert.Equal(3, orders.Count);
        Assert.Null(orders[0].Metadata);
        var root = $"Orders:{orders[0].Id}";
        var reservation = Log(store, new Reservations()).Single(n => ((Reservation.Created)EventTopics.Deserialize(n)).OrderId == orderId);
        Assert.Equal(new EventMetadata(CorrelationId: root, CausationId: root), reservation.Metadata);
        Assert.Equal(new EventMetadata(CorrelationId: root, CausationId: $"Reservations:{reservation.Id}"), orders[1].Metadata);
        Assert.All(orders.Skip(1), n => Assert.Equal(root, n.Metadata?.CorrelationId));
    }

    [Theory, SqliteStore, PostgresStore, MemoryStore]
    public async Task SaveAsync_and_GetAsync_store_and_read_as_the_synchronous_calls_do(string kind)
    {
        using var test = TestStore.Create(kind);
        var bank = test.OpenBank(test.Open());
        var account = Account.Open("ada");
        Assert.Equal(1, await bank.SaveAsync(account));
        account.Deposit(5);
        account.Deposit(7);
        Assert.Equal(3, await bank.SaveAsync([account]));
        Assert.Equal(0, await bank.SaveAsync(account));   // nothing pending

        var again = test.OpenBank(test.Open());
        var read = await again.Repository.GetAsync<Account>(account.Id);
        Assert.Equal((12m, 3L), (read.Balance, read.Version));
        await Assert.ThrowsAsync<AggregateNotFoundException>(() => again.Repository.GetAsync<Account>(Guid.NewGuid()));

        // A stale copy is refused and stores nothing, as with Save.
        var stale = await again.Repository.GetAsync<Account>(account.Id);
        read.Deposit(1);
        await again.SaveAsync(read);
        stale.Deposit(100);
        await Assert.ThrowsAsync<ConcurrencyException>(() => again.SaveAsync(stale));
        Assert.Equal(13m, (await test.OpenBank(test.Open()).Repository.GetAsync<Account>(account.Id)).Balance);

        // Concurrent asynchronous saves: every one stored once, ids contiguous.
        var saves = Enumerable.Range(0, 40).Select(i => bank.SaveAsync(Account.Open("owner " + i))).ToArray();
        var ids = await Task.WhenAll(saves);
        Assert.Equal(Enumerable.Range(5, 40).Select(i => (long)i), ids.Order());
    }

    [Theory, PostgresStore]
    public async Task On_PostgreSQL_SaveAsync_and_GetAsync_hold_no_thread_while_the_server_makes_them_wait(string kind)
    {
        using var test = TestStore.Create(kind);
        var bank = test.OpenBank(test.Open());
        var first = Account.Open("ada");
        await bank.SaveAsync(first);   // tables exist and the writer connection is held from here
        var reader = test.OpenBank(test.Open());   // opened (its tables checked) before the lock

        await using var blocker = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(test.Location.Location) { SearchPath = test.Location.Schema, Pooling = false }.ConnectionString);
        await blocker.OpenAsync();
        await using (var transaction = await blocker.BeginTransactionAsync())
        {
            // Holds off every append (they take EXCLUSIVE) and every read (ACCESS EXCLUSIVE blocks SELECT).
            await using (var command = new NpgsqlCommand("LOCK TABLE bank_events IN ACCESS EXCLUSIVE MODE", blocker, transaction))
                await command.ExecuteNonQueryAsync();

            Task<long>? save = null;
            Task<Account>? get = null;
            // The calls return at once, waiting on the server without a thread; a synchronous
            // implementation would not return from the call until the lock is released.
            var calls = Task.Run(() =>
            {
                save = bank.SaveAsync(Account.Open("grace"));
                get = reader.Repository.GetAsync<Account>(first.Id);
            });
            Assert.Same(calls, await Task.WhenAny(calls, Task.Delay(TimeSpan.FromSeconds(20))));
            await Task.Delay(300);
            Assert.False(save!.IsCompleted, "the save completed while the events table was locked");
            Assert.False(get!.IsCompleted, "the read completed while the events table was locked");
            await transaction.CommitAsync();
            Assert.Equal(2, await save.WaitAsync(Idle));
            Assert.Equal("ada", (await get.WaitAsync(Idle)).Owner);
        }
    }

    private static List<Notification> Log(Persistence store, Application application) =>
        [.. application.Open(store).NotificationLog.Select(0, 100_000).Items];

    private static void AssertProcessed(IEnumerable<Activity> all, List<Activity> trace, string name, Notification upstream, Notification recorded, string stepName)
    {
        var processing = Assert.Single(trace, a => a.DisplayName.StartsWith(name, StringComparison.Ordinal) && a.SpanId == SpanOf(recorded));
        Assert.Equal(SpanOf(upstream), processing.ParentSpanId);      // continues the trace of the event it processed
        Assert.Equal(upstream.Id, processing.GetTagItem("processdsl.notification_id"));
        Assert.Equal(ActivityKind.Consumer, processing.Kind);
        var link = Assert.Single(processing.Links);                    // and links to its step
        var step = Assert.Single(all, a => a.SpanId == link.Context.SpanId && a.TraceId == link.Context.TraceId);
        Assert.Equal(stepName, step.DisplayName);
    }

    private static ActivityTraceId TraceOf(Notification n) =>
        ActivityContext.Parse(n.Metadata?.TraceParent ?? throw new Xunit.Sdk.XunitException($"notification {n.Id} ({n.Topic}) has no traceparent"), null).TraceId;

    private static ActivitySpanId SpanOf(Notification n) =>
        ActivityContext.Parse(n.Metadata?.TraceParent ?? throw new Xunit.Sdk.XunitException($"notification {n.Id} ({n.Topic}) has no traceparent"), null).SpanId;
}
