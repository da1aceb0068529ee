using Microsoft.Extensions.Logging;
using ProcessDsl.Tests.Support;

namespace ProcessDsl.Tests;

/// <summary>What a caller sees when processing fails (docs/failures.md). Part of <see cref="ProcessingTests"/>: they share the poison hook.</summary>
public sealed partial class ProcessingTests
{
    [Fact]
    public async Task A_single_threaded_save_that_is_stored_but_not_processed_says_so_and_the_failure_is_recorded()
    {
        using var store = Persistence.Sqlite(_dir.Path);
        var logs = new ListLoggerFactory();
        var options = new RunnerOptions
        {
            Processing = new ProcessingOptions { PolicyAttempts = 2, InitialBackoff = TimeSpan.FromMilliseconds(1) },
            LoggerFactory = logs,
        };
        var runner = new SingleThreadedRunner(OrdersSystem.Definition, store, options);
        await runner.StartAsync();
        var orders = runner.Get<Orders>();
        var order = Order.Create();
        Reservations.PoisonOrderId = order.Id;
        try
        {
            var ex = Assert.Throws<SavedButNotProcessedException>(() => orders.Save(order));
            Assert.Equal("Orders", ex.Application);
            Assert.Equal(1, ex.LastNotificationId);
            var processing = Assert.IsType<ProcessingException>(ex.InnerException);
            Assert.Equal("Reservations", processing.Application);
            // Stored, so the caller must not save it again; and a second command is told the same.
            Assert.True(orders.Repository.Contains(order.Id));
            Assert.Throws<SavedButNotProcessedException>(() => orders.CreateNewOrder());
            Assert.Equal(2, orders.NotificationLog.MaxNotificationId);
        }
        finally
        {
            Reservations.PoisonOrderId = Guid.Empty;
        }

        // Disposing without collecting the failure does not hide it: it is logged as an error.
        await runner.DisposeAsync();
        Assert.Contains(logs.Entries, e => e.Level == LogLevel.Error && e.Message.Contains("never collected", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_single_threaded_save_whose_follower_exhausts_its_database_retries_is_stored_and_says_so()
    {
        using var store = Persistence.Sqlite(_dir.Path);
        var system = new SystemDefinition("Busy", [
            new ApplicationDefinition("Orders", typeof(Orders), () => new Orders(), [], []),
            new ApplicationDefinition(nameof(AlwaysBusy), typeof(AlwaysBusy), () => new AlwaysBusy(), ["Orders"], ["ProcessDsl.Tests.Support.Order.Created"]),
        ]);
        var options = new RunnerOptions { Processing = new ProcessingOptions { TransientAttempts = 3, InitialBackoff = TimeSpan.FromMilliseconds(1) } };
        await using var runner = new SingleThreadedRunner(system, store, options);
        await runner.StartAsync();
        var ex = Assert.Throws<SavedButNotProcessedException>(() => runner.Get<Orders>().CreateNewOrder());
        Assert.IsType<Microsoft.Data.Sqlite.SqliteException>(ex.InnerException);
        Assert.Equal(1, runner.Get<Orders>().NotificationLog.MaxNotificationId);
        await Assert.ThrowsAsync<Microsoft.Data.Sqlite.SqliteException>(() => runner.WaitUntilIdleAsync(Idle));
    }

    [Fact]
    public async Task A_parked_event_lets_the_follower_go_on_and_is_processed_exactly_once_when_retried()
    {
        var ids = new List<Guid>();
        using var store = Persistence.Sqlite(_dir.Path);
        var recorder = (Orders)new Orders().Open(store);
        for (var i = 0; i < 5; i++) ids.Add(recorder.CreateNewOrder());
        Reservations.PoisonOrderId = ids[2];
        try
        {
            var options = new RunnerOptions
            {
                Processing = new ProcessingOptions { PolicyAttempts = 2, ParkFailingEvents = true, InitialBackoff = TimeSpan.FromMilliseconds(1) },
            };
            await using var runner = new SingleThreadedRunner(OrdersSystem.Definition, store, options);
            await runner.StartAsync();
            await runner.WaitUntilIdleAsync(Idle);   // no failure: the poisoned event is parked, the others processed

            var parked = Assert.Single(runner.Parked());
            Assert.Equal(("Reservations", "Orders", 3L, "ProcessDsl.Tests.Support.Order.Created"), (parked.Application, parked.Upstream, parked.NotificationId, parked.Topic));
            Assert.Equal(typeof(InvalidOperationException).FullName, parked.ExceptionType);
            Assert.Contains("poisoned order", parked.Message);
            Assert.Equal(2, parked.Attempts);
            Assert.Equal(4, runner.Get<Reservations>().NotificationLog.MaxNotificationId);
            Assert.Equal(runner.Get<Orders>().NotificationLog.MaxNotificationId, runner.Get<Reservations>().Store.Position("Orders"));
            var status = SystemStatus.Read(OrdersSystem.Definition, store).Single(a => a.Application == "Reservations");
            Assert.Equal(1, status.Parked);

            // Still failing: it stays parked.
            await Assert.ThrowsAsync<ProcessingException>(() => runner.RetryParkedAsync(parked));
            Assert.Single(runner.Parked());

            Reservations.PoisonOrderId = Guid.Empty;
            Assert.True(await runner.RetryParkedAsync(parked));
            Assert.False(await runner.RetryParkedAsync(parked));   // already done: nothing doubled
            await runner.WaitUntilIdleAsync(Idle);
            Assert.Empty(runner.Parked());
            OrdersChecks.AllReservedAndPaidExactlyOnce(runner, ids);
        }
        finally
        {
            Reservations.PoisonOrderId = Guid.Empty;
        }
    }

    [Fact]
    public void A_store_that_could_not_be_opened_is_tried_again_next_time()
    {
        using var store = Persistence.Sqlite(_dir.Path);
        // A folder where the database file should be: SQLite cannot open it.
        var blocker = store.DatabasePath("Orders");
        Directory.CreateDirectory(blocker);
        Assert.ThrowsAny<Exception>(() => new Orders().Open(store));
        Directory.Delete(blocker);
        var orders = (Orders)new Orders().Open(store);
        orders.CreateNewOrder();
        Assert.Equal(1, orders.NotificationLog.MaxNotificationId);
    }

    [Fact]
    public async Task An_aggregate_given_to_processing_Save_is_refused_in_our_words()
    {
        using var store = Persistence.Sqlite(_dir.Path);
        var orders = (Orders)new Orders().Open(store);
        orders.CreateNewOrder();
        var bad = (SavesAggregateAsRow)new SavesAggregateAsRow().Open(store);
        var follower = new Follower(bad, "Orders", orders.NotificationLog, new ProcessingOptions { PolicyAttempts = 1 });
        var ex = await Assert.ThrowsAsync<ProcessingException>(() => follower.CatchUpAsync(CancellationToken.None));
        var error = Assert.IsType<ArgumentException>(ex.InnerException);
        Assert.Contains("processing.Collect(aggregate)", error.Message);
        Assert.Contains(nameof(Reservation), error.Message);
        Assert.Equal(0, bad.Store.Position("Orders"));
    }

    private sealed class SavesAggregateAsRow : ProcessApplication
    {
        private static readonly HashSet<string> s_topics = ["ProcessDsl.Tests.Support.Order.Created"];
        public override IReadOnlySet<string> HandledTopics => s_topics;

        // As object, as code the analyzer cannot see through would pass it (PDSL035 catches the plain call).
        protected override bool DispatchPolicy(Notification notification, ProcessingEvent processing)
        {
            processing.Save((object)Reservation.Create(notification.OriginatorId));
            return true;
        }
    }

    private sealed class AlwaysBusy : ProcessApplication
    {
        private static readonly HashSet<string> s_topics = ["ProcessDsl.Tests.Support.Order.Created"];
        public override IReadOnlySet<string> HandledTopics => s_topics;

        protected override bool DispatchPolicy(Notification notification, ProcessingEvent processing) =>
            throw new Microsoft.Data.Sqlite.SqliteException("database is locked", 5);
    }

    private sealed class ListLoggerFactory : ILoggerFactory, ILoggerProvider
    {
        public List<(LogLevel Level, string Message)> Entries { get; } = [];

        public ILogger CreateLogger(string categoryName) => new ListLogger(this);

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }

        private sealed class ListLogger(ListLoggerFactory owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                lock (owner.Entries) owner.Entries.Add((logLevel, formatter(state, exception)));
            }
        }
    }
}
