using ProcessDsl.Tests.Support;

namespace ProcessDsl.Tests;

/// <summary>What a multiprocess runner tells its workers survives the trip through the environment.</summary>
public sealed class WorkerSettingsTests
{
    [Fact]
    public void Runner_options_travel_to_a_worker_whole_with_remote_upstreams_recreated()
    {
        using var upstream = new RemoteNotificationLog(new Uri("http://logs.example:5080/logs"), "Orders",
            new RemoteNotificationLogOptions { BearerToken = "t0k", MaxAttempts = 9, SectionSize = 100, MaxResponseBytes = 1 << 20 });
        var options = new RunnerOptions
        {
            Processing = new ProcessingOptions { MaxBatchSize = 7, PolicyAttempts = 11, TransientAttempts = 4, InitialBackoff = TimeSpan.FromMilliseconds(3), MaxBackoff = TimeSpan.FromSeconds(9) },
            PollInterval = TimeSpan.FromMilliseconds(123),
            StepInterval = TimeSpan.FromMilliseconds(17),
            CommitShare = 0.25,
            Application = new ApplicationOptions { SectionSize = 25, CacheCapacity = 99 },
            CrossProcessPrompts = false,
            UpstreamLogs = new Dictionary<string, INotificationLog> { ["Orders"] = upstream },
        };

        var json = WorkerSettings.From(options).ToJson();
        var opened = new List<IDisposable>();
        var worker = WorkerSettings.FromJson(json).ToRunnerOptions(["Reservations"], opened, loggerFactory: null);

        Assert.Equal(options.Processing, worker.Processing);
        Assert.Equal(options.PollInterval, worker.PollInterval);
        Assert.Equal(options.StepInterval, worker.StepInterval);
        Assert.Equal(0.25, worker.CommitShare);
        Assert.Equal(25, worker.Application.SectionSize);
        Assert.Equal(99, worker.Application.CacheCapacity);
        Assert.False(worker.CrossProcessPrompts);
        Assert.Equal(["Reservations"], worker.Applications!);
        var remote = Assert.IsType<RemoteNotificationLog>(Assert.Single(worker.UpstreamLogs).Value);
        Assert.Equal(upstream.LogAddress, remote.LogAddress);
        Assert.Equal(upstream.Options, remote.Options);
        Assert.Same(remote, Assert.Single(opened));
        remote.Dispose();
    }

    [Fact]
    public void An_upstream_log_a_worker_cannot_open_is_refused_when_the_runner_is_made()
    {
        using var store = Persistence.InMemory();
        var local = new Orders().Open(store).NotificationLog;
        var options = WorkerProgram.Options() with { Runner = new RunnerOptions { UpstreamLogs = new Dictionary<string, INotificationLog> { ["Orders"] = local } } };
        using var shared = Persistence.Sqlite(Path.Combine(Path.GetTempPath(), "processdsl-settings-" + Guid.NewGuid().ToString("N")));
        try
        {
            var ex = Assert.Throws<ArgumentException>(() => new MultiprocessRunner(OrdersSystem.Definition, shared, options));
            Assert.Contains("upstream log of 'Orders'", ex.Message);
            Assert.Contains("RemoteNotificationLog", ex.Message);
        }
        finally
        {
            Directory.Delete(shared.Directory, recursive: true);
        }
    }

    [Fact]
    public void Settings_that_are_not_json_are_a_clear_error()
    {
        var ex = Assert.Throws<FormatException>(() => WorkerSettings.FromJson("{nope"));
        Assert.Contains(WorkerSettings.SettingsVariable, ex.Message);
    }
}
