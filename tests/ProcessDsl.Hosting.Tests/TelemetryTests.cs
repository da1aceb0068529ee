using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using ProcessDsl.Hosting.Tests.Support;

namespace ProcessDsl.Hosting.Tests;

public sealed class TelemetryTests : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly ConcurrentBag<(string Instrument, double Value, Dictionary<string, string> Tags)> _measurements = [];
    private readonly MeterListener _meters = new();

    public TelemetryTests()
    {
        _meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == ProcessDslDiagnostics.MeterName) listener.EnableMeasurementEvents(instrument);
        };
        _meters.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _meters.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _meters.Start();
    }

    public void Dispose()
    {
        _meters.Dispose();
        _directory.Dispose();
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var tag in tags) map[tag.Key] = tag.Value?.ToString() ?? "";
        _measurements.Add((instrument.Name, value, map));
    }

    private double Sum(string instrument, string application, string? upstream = null) => _measurements
        .Where(m => m.Instrument == instrument && m.Tags.GetValueOrDefault("application") == application
                    && (upstream is null || m.Tags.GetValueOrDefault("upstream") == upstream))
        .Sum(m => m.Value);

    private int Count(string instrument, string application, string upstream) => _measurements
        .Count(m => m.Instrument == instrument && m.Tags.GetValueOrDefault("application") == application && m.Tags.GetValueOrDefault("upstream") == upstream);

    private static RunnerOptions Options(PaymentGateway gateway) => new()
    {
        ApplicationFactory = d => d.Type == typeof(Payments) ? new Payments(gateway) : d.Factory!(),
        Processing = new ProcessingOptions { PolicyAttempts = 2, InitialBackoff = TimeSpan.FromMilliseconds(1) },
    };

    [Fact]
    public async Task The_meter_counts_recorded_and_processed_events_and_times_each_step()
    {
        await using var runner = new SingleThreadedRunner(ShopSystem.Definition, Persistence.Sqlite(_directory.Path), Options(new PaymentGateway()));
        await runner.StartAsync();
        var orders = runner.Get<Orders>();
        for (var i = 0; i < 4; i++) orders.CreateNewOrder();
        await runner.WaitUntilIdleAsync(TimeSpan.FromSeconds(30));

        // Orders: 4 created + 4 reserved + 4 paid; Reservations 4; Payments 4.
        Assert.Equal(12, Sum("processdsl.events.recorded", "Orders"));
        Assert.Equal(4, Sum("processdsl.events.recorded", "Reservations"));
        Assert.Equal(4, Sum("processdsl.events.recorded", "Payments"));
        Assert.Equal(4, Sum("processdsl.events.processed", "Reservations", "Orders"));
        Assert.Equal(4, Sum("processdsl.events.processed", "Payments", "Reservations"));
        Assert.Equal(8, Sum("processdsl.events.processed", "Summaries", "Orders")); // created and paid; reserved is not its topic
        Assert.True(Count("processdsl.step.duration", "Payments", "Reservations") >= 1);
        Assert.All(_measurements.Where(m => m.Instrument == "processdsl.step.duration"), m => Assert.True(m.Value >= 0));
        Assert.Equal(Count("processdsl.step.duration", "Payments", "Reservations"), Count("processdsl.step.batch_size", "Payments", "Reservations"));
        Assert.Equal(4, Sum("processdsl.step.batch_size", "Payments", "Reservations"));
        Assert.Equal(0, Sum("processdsl.retries", "Payments"));

        _meters.RecordObservableInstruments();
        var lags = _measurements.Where(m => m.Instrument == "processdsl.follower.lag").ToArray();
        Assert.Contains(lags, m => m.Tags["application"] == "Payments" && m.Tags["upstream"] == "Reservations" && m.Value == 0);
        Assert.Contains(lags, m => m.Tags["application"] == "Orders" && m.Tags["upstream"] == "Payments" && m.Value == 0);
    }

    [Fact]
    public async Task The_writer_meter_times_each_hold_and_counts_every_save_once()
    {
        var clock = Stopwatch.StartNew();
        await using (var runner = new MultiThreadedRunner(ShopSystem.Definition, Persistence.Sqlite(_directory.Path), Options(new PaymentGateway())))
        {
            await runner.StartAsync();
            var orders = runner.Get<Orders>();
            // Concurrent callers: their saves group, or ride in the steps of Orders' followers.
            await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
            {
                for (var i = 0; i < 5; i++) orders.CreateNewOrder();
            })));
            await runner.WaitUntilIdleAsync(TimeSpan.FromSeconds(30));
            await runner.StopAsync();
        }
        var elapsed = clock.Elapsed.TotalSeconds;

        var held = _measurements.Where(m => m.Instrument == "processdsl.writer.held").ToArray();
        Assert.All(held, m => Assert.True(m.Value >= 0));
        Assert.Contains(held, m => m.Tags["application"] == "Orders" && m.Tags["holder"] == "saves");
        Assert.Contains(held, m => m.Tags["application"] == "Orders" && m.Tags["holder"] == "step");
        Assert.Contains(held, m => m.Tags["application"] == "Reservations" && m.Tags["holder"] == "step");
        Assert.Contains(held, m => m.Tags["application"] == "Orders" && m.Tags["holder"] == "schema");
        // One writer per application, held by one at a time: its holds never add up to more than
        // the time the runner ran (they would, counting the callers' waits for it).
        Assert.InRange(Sum("processdsl.writer.held", "Orders"), 0.000001, elapsed);

        // Each of the 40 saves committed exactly once, in a group commit or in a step that carried it.
        var saves = _measurements.Where(m => m.Instrument == "processdsl.saves.per_commit" && m.Tags["application"] == "Orders").ToArray();
        Assert.Equal(40, saves.Sum(m => m.Value));
        Assert.All(saves, m => Assert.Contains(m.Tags["carrier"], new[] { "saves", "step" }));
        Assert.Equal(0, Sum("processdsl.saves.per_commit", "Reservations")); // processing steps only: no commands
    }

    [Fact]
    public async Task The_lag_gauge_reads_how_far_a_follower_is_behind()
    {
        var gateway = new PaymentGateway();
        gateway.Open.Reset();
        await using var runner = new MultiThreadedRunner(ShopSystem.Definition, Persistence.Sqlite(_directory.Path), Options(gateway));
        await runner.StartAsync();
        var orders = runner.Get<Orders>();
        for (var i = 0; i < 6; i++) orders.CreateNewOrder();
        var reservations = runner.Get<Reservations>();
        while (reservations.NotificationLog["current"].Items.Count < 6) await Task.Delay(10);

        _meters.RecordObservableInstruments();
        Assert.Contains(_measurements, m => m.Instrument == "processdsl.follower.lag" && m.Tags["application"] == "Payments" && m.Value >= 5);
        gateway.Open.Set();
        await runner.WaitUntilIdleAsync(TimeSpan.FromSeconds(30));
        await runner.StopAsync();

        _measurements.Clear();
        _meters.RecordObservableInstruments();
        Assert.DoesNotContain(_measurements, m => m.Instrument == "processdsl.follower.lag"); // a stopped runner is not observed
    }

    [Fact]
    public async Task Retries_and_parked_events_are_counted()
    {
        var gateway = new PaymentGateway { Limit = 100 };
        var options = Options(gateway);
        options = options with { Processing = options.Processing with { ParkFailingEvents = true } };
        await using var runner = new SingleThreadedRunner(ShopSystem.Definition, Persistence.Sqlite(_directory.Path), options);
        await runner.StartAsync();
        runner.Get<Orders>().CreateNewOrder(5000);
        await runner.WaitUntilIdleAsync(TimeSpan.FromSeconds(30));   // parked, so nothing stops

        Assert.Equal(1, Sum("processdsl.retries", "Payments", "Reservations")); // 2 attempts: 1 retry
        Assert.Equal(1, Sum("processdsl.events.parked", "Payments", "Reservations"));
        Assert.Contains(_measurements, m => m.Instrument == "processdsl.events.parked" && m.Tags["topic"].Contains("Reservation.Created", StringComparison.Ordinal));
        Assert.Single(runner.Parked());
    }

    [Fact]
    public async Task Every_step_is_an_activity_and_a_failed_step_is_an_error()
    {
        var activities = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == ProcessDslDiagnostics.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activities.Add,
        };
        ActivitySource.AddActivityListener(listener);

        var gateway = new PaymentGateway { Limit = 100 };
        await using var runner = new SingleThreadedRunner(ShopSystem.Definition, Persistence.Sqlite(_directory.Path), Options(gateway));
        await runner.StartAsync();
        var orders = runner.Get<Orders>();
        orders.CreateNewOrder(10);
        try
        {
            orders.CreateNewOrder(5000);
        }
        catch (SavedButNotProcessedException)
        {
            // The single-threaded runner says so from the command: the order is stored, its payment failed.
        }
        await Assert.ThrowsAsync<ProcessingException>(() => runner.WaitUntilIdleAsync(TimeSpan.FromSeconds(30)));

        // Steps (each event's processing inside a step is an activity of its own, without a batch size).
        var steps = activities.Where(a => (string?)a.GetTagItem("processdsl.application") == "Payments" && a.GetTagItem("processdsl.batch_size") is not null).ToArray();
        Assert.Contains(steps, a => a.Status == ActivityStatusCode.Ok || a.Status == ActivityStatusCode.Unset);
        Assert.Contains(steps, a => a.Status == ActivityStatusCode.Error);
        Assert.All(steps, a =>
        {
            Assert.Equal("Payments follows Reservations", a.DisplayName);
            Assert.Equal("Reservations", a.GetTagItem("processdsl.upstream"));
            Assert.Equal(ActivityKind.Consumer, a.Kind);
        });
        Assert.Contains(activities, a => (string?)a.GetTagItem("processdsl.application") == "Reservations" && a.Status != ActivityStatusCode.Error);
    }
}
