using System.Diagnostics;
using ProcessDsl.Tests.Support;

namespace ProcessDsl.Tests;

[Collection("Reservations poison")]
public sealed class MultiprocessTests : IDisposable
{
    private static readonly TimeSpan Idle = TimeSpan.FromMinutes(3);
    private readonly TempDirectory _dir = new();
    private readonly Persistence _store;

    public MultiprocessTests() => _store = Persistence.Sqlite(_dir.Path);

    public void Dispose()
    {
        _store.Dispose();
        _dir.Dispose();
    }

    private string Store => "sqlite:" + _dir.Path;

    /// <summary>Workers whose program does not exist, restarted at once, given up after <paramref name="maxFailedStarts"/> starts.</summary>
    private static MultiprocessOptions NeverStarting(int maxFailedStarts) => WorkerProgram.Options() with
    {
        WorkerArguments = ["/no/such/dir/worker.dll"],
        RestartBackoff = TimeSpan.FromMilliseconds(1),
        MaxRestartBackoff = TimeSpan.FromMilliseconds(10),
        MaxFailedStarts = maxFailedStarts,
    };

    [Fact]
    public async Task Workers_in_child_processes_process_every_order_exactly_once()
    {
        await using var runner = new MultiprocessRunner(OrdersSystem.Definition, _store, WorkerProgram.Options());
        await runner.StartAsync();
        Assert.Equal(["Orders", "Payments", "Reservations", "Summaries"], runner.Workers.Select(w => w.Application).Order());
        Assert.All(runner.Workers, w => Assert.NotEqual(Environment.ProcessId, w.ProcessId));
        var orders = runner.Get<Orders>();
        var ids = Enumerable.Range(0, 150).Select(_ => orders.CreateNewOrder()).ToList();
        await runner.WaitUntilIdleAsync(Idle);
        OrdersChecks.AllReservedAndPaidExactlyOnce(runner, ids);
        await runner.StopAsync();
        Assert.All(runner.Workers, w => Assert.Throws<ArgumentException>(() => Process.GetProcessById(w.ProcessId)));
    }

    [Fact]
    public async Task Workers_killed_with_SIGKILL_are_restarted_and_nothing_is_lost_or_doubled()
    {
        await using var runner = new MultiprocessRunner(OrdersSystem.Definition, _store, WorkerProgram.Options());
        await runner.StartAsync();
        var orders = runner.Get<Orders>();
        var ids = new List<Guid>();
        var random = new Random(7);
        var kills = 0;
        for (var round = 0; round < 6; round++)
        {
            for (var i = 0; i < 60; i++) ids.Add(orders.CreateNewOrder());
            var victim = runner.Workers[random.Next(runner.Workers.Count)];
            try
            {
                Process.GetProcessById(victim.ProcessId).Kill(); // SIGKILL on Unix
                kills++;
            }
            catch (ArgumentException)
            {
                // Between restarts: nothing to kill this round.
            }
            await Task.Delay(random.Next(20, 200));
        }
        await runner.WaitUntilIdleAsync(Idle);
        Assert.True(kills >= 4);
        Assert.True(runner.Workers.Sum(w => w.Restarts) >= 4, "killed workers are restarted");
        OrdersChecks.AllReservedAndPaidExactlyOnce(runner, ids);
        await runner.StopAsync();
    }

    [Fact]
    public async Task A_poison_event_in_a_worker_reaches_the_parent_as_a_processing_exception()
    {
        var ids = new List<Guid>();
        using (var store = Persistence.Sqlite(_dir.Path))
        {
            var recorder = (Orders)new Orders().Open(store);
            for (var i = 0; i < 5; i++) ids.Add(recorder.CreateNewOrder());
        }
        var options = WorkerProgram.Options(new Dictionary<string, string> { ["PROCESSDSL_TEST_POISON_ORDER"] = ids[3].ToString() });
        await using var runner = new MultiprocessRunner(OrdersSystem.Definition, _store, options);
        await runner.StartAsync();
        var ex = await Assert.ThrowsAsync<ProcessingException>(() => runner.WaitUntilIdleAsync(Idle));
        Assert.Equal("Reservations", ex.Application);
        Assert.Equal("Orders", ex.Upstream);
        Assert.Equal(4, ex.NotificationId);
        Assert.Equal("ProcessDsl.Tests.Support.Order.Created", ex.Topic);
        var inner = Assert.IsType<WorkerProcessException>(ex.InnerException);
        Assert.Equal(typeof(InvalidOperationException).FullName, inner.ExceptionType);
        Assert.Contains(ids[3].ToString(), inner.Message);
        Assert.Equal(3, runner.Get<Reservations>().NotificationLog.MaxNotificationId);
        await Assert.ThrowsAsync<ProcessingException>(() => runner.StopAsync());
    }

    [Fact]
    public async Task Two_workers_of_one_application_started_by_hand_duplicate_nothing()
    {
        var ids = new List<Guid>();
        using (var store = Persistence.Sqlite(_dir.Path))
        {
            var recorder = (Orders)new Orders().Open(store);
            for (var i = 0; i < 300; i++) ids.Add(recorder.CreateNewOrder());
        }
        var workers = Enumerable.Range(0, 2).Select(_ => StartWorker("Reservations")).ToList();
        try
        {
            using var store = Persistence.Sqlite(_dir.Path);
            var reservations = (Reservations)new Reservations().Open(store);
            var deadline = DateTime.UtcNow + Idle;
            while (reservations.Store.Position("Orders") < 300 && DateTime.UtcNow < deadline) await Task.Delay(50);
            Assert.Equal(300, reservations.Store.Position("Orders"));
            var reserved = OrdersChecks.Contiguous(reservations.NotificationLog)
                .Select(n => ((Reservation.Created)EventTopics.Deserialize(n)).OrderId).ToList();
            Assert.Equal(ids.Order(), reserved.Order());
        }
        finally
        {
            foreach (var worker in workers)
            {
                worker.StandardInput.Close();
                if (!worker.WaitForExit(10_000)) worker.Kill();
                worker.Dispose();
            }
        }
    }

    [Fact]
    public async Task Without_prompts_followers_in_other_processes_still_catch_up_by_polling()
    {
        using var followerStore = Persistence.Sqlite(_dir.Path);
        var options = new RunnerOptions { CrossProcessPrompts = false, PollInterval = TimeSpan.FromMilliseconds(100), Applications = ["Reservations"] };
        await using var follower = new MultiThreadedRunner(OrdersSystem.Definition, followerStore, options);
        await follower.StartAsync();

        using var writerStore = Persistence.Sqlite(_dir.Path); // another "process": its saves prompt nobody here
        var orders = (Orders)new Orders().Open(writerStore);
        var ids = Enumerable.Range(0, 20).Select(_ => orders.CreateNewOrder()).ToList();

        await follower.WaitUntilIdleAsync(Idle);
        Assert.Equal(20, follower.Get<Reservations>().NotificationLog.MaxNotificationId);
    }

    [Fact]
    public void The_multiprocess_runner_refuses_a_store_processes_cannot_share()
    {
        var ex = Assert.Throws<ArgumentException>(() => new MultiprocessRunner(OrdersSystem.Definition, "memory"));
        Assert.Contains("share", ex.Message);
        using var memory = Persistence.InMemory();
        Assert.Null(memory.ShareableSpec);
        var refused = Assert.Throws<ArgumentException>(() => new MultiprocessRunner(OrdersSystem.Definition, memory));
        Assert.Equal("persistence", refused.ParamName);
        Assert.Contains("share", refused.Message);
        Assert.Contains(memory.Description, refused.Message);
    }

    [Fact]
    public void A_store_spec_names_the_same_store_by_durability()
    {
        Assert.Equal("sqlite:" + Path.GetFullPath(_dir.Path), _store.ShareableSpec);
        using var normal = Persistence.Sqlite(_dir.Path, SqliteDurability.Normal);
        Assert.Equal("sqlite-normal:" + Path.GetFullPath(_dir.Path), normal.ShareableSpec);
        using var reopened = StoreSpec.Open(normal.ShareableSpec!);
        var sqlite = Assert.IsType<SqlitePersistence>(reopened);
        Assert.Equal(SqliteDurability.Normal, sqlite.Durability);
        Assert.Equal(normal.Directory, sqlite.Directory);
    }

    [Fact]
    public async Task A_workers_command_line_names_no_store_and_its_environment_carries_it()
    {
        await using var runner = new MultiprocessRunner(OrdersSystem.Definition, _store, WorkerProgram.Options());
        await runner.StartAsync();
        var orders = runner.Get<Orders>();
        var id = orders.CreateNewOrder();
        await runner.WaitUntilIdleAsync(Idle); // every worker is up
        // The runtime settings workers get here (tiered compilation off, unless this process says how to compile).
        var runtime = new Dictionary<string, string>(StringComparer.Ordinal);
        WorkerRuntime.Configure(runtime);
        foreach (var worker in runner.Workers)
        {
            var commandLine = File.ReadAllText($"/proc/{worker.ProcessId}/cmdline").Replace('\0', ' ');
            Assert.Contains("worker --app " + worker.Application, commandLine);
            Assert.DoesNotContain(_dir.Path, commandLine);
            Assert.DoesNotContain("sqlite", commandLine);
            var environment = File.ReadAllText($"/proc/{worker.ProcessId}/environ").Split('\0');
            Assert.Contains("PROCESSDSL_WORKER_STORE=" + _store.ShareableSpec, environment);
            foreach (var (name, value) in runtime) Assert.Contains($"{name}={value}", environment);
        }
        OrdersChecks.AllReservedAndPaidExactlyOnce(runner, [id]);
        await runner.StopAsync();
    }

    [Fact]
    public async Task Workers_get_the_runners_processing_options()
    {
        var ids = new List<Guid>();
        var recorder = (Orders)new Orders().Open(_store);
        for (var i = 0; i < 3; i++) ids.Add(recorder.CreateNewOrder());
        var options = WorkerProgram.Options(new Dictionary<string, string> { ["PROCESSDSL_TEST_POISON_ORDER"] = ids[1].ToString() });
        options = options with
        {
            Runner = options.Runner with
            {
                Processing = new ProcessingOptions { PolicyAttempts = 6, InitialBackoff = TimeSpan.FromMilliseconds(1), MaxBackoff = TimeSpan.FromMilliseconds(5), MaxBatchSize = 2 },
            },
        };
        await using var runner = new MultiprocessRunner(OrdersSystem.Definition, _store, options);
        await runner.StartAsync();
        var ex = await Assert.ThrowsAsync<ProcessingException>(() => runner.WaitUntilIdleAsync(Idle));
        Assert.Equal("Reservations", ex.Application);
        // The worker's policy ran exactly as often as the parent's options allow, not the default 3.
        Assert.EndsWith("(attempt 6)", ex.InnerException!.Message);
        await Assert.ThrowsAsync<ProcessingException>(() => runner.StopAsync());
    }

    [Fact]
    public async Task A_worker_that_never_starts_is_reported_with_its_error_output_after_the_allowed_attempts()
    {
        await using var runner = new MultiprocessRunner(OrdersSystem.Definition, _store, NeverStarting(maxFailedStarts: 3));
        await runner.StartAsync();
        runner.Get<Orders>().CreateNewOrder();
        var ex = await Assert.ThrowsAsync<WorkerStartException>(() => runner.WaitUntilIdleAsync(Idle));
        Assert.Equal(3, ex.Attempts);
        Assert.Contains(ex.Application, runner.Workers.Select(w => w.Application));
        Assert.Contains($"'{ex.Application}'", ex.Message);
        Assert.Contains("not found", ex.ErrorOutput); // what dotnet said about the missing program
        Assert.Contains(ex.ErrorOutput, ex.Message);
        // The reported worker had 3 starts, then was given up; the others may be a start behind when it is reported.
        Assert.Equal(2, runner.Workers.Single(w => w.Application == ex.Application).Restarts);
        Assert.All(runner.Workers, w => Assert.InRange(w.Restarts, 1, 2));
        await Assert.ThrowsAsync<WorkerStartException>(() => runner.StopAsync());
    }

    [Fact]
    public async Task Waiting_for_the_workers_returns_once_every_one_has_started_and_names_those_that_have_not()
    {
        await using var runner = new MultiprocessRunner(OrdersSystem.Definition, _store, WorkerProgram.Options());
        await Assert.ThrowsAsync<InvalidOperationException>(() => runner.WaitUntilWorkersStartedAsync(Idle));
        await runner.StartAsync();
        // A process takes far longer than a millisecond to start its runtime, open the store and write its ready line.
        var early = await Assert.ThrowsAsync<TimeoutException>(() => runner.WaitUntilWorkersStartedAsync(TimeSpan.FromMilliseconds(1)));
        Assert.Contains("Reservations", early.Message);
        await runner.WaitUntilWorkersStartedAsync(Idle);
        Assert.All(runner.Workers, w => Assert.Equal(0, w.Restarts));
        Assert.All(runner.Workers, w => Assert.False(Process.GetProcessById(w.ProcessId).HasExited));
        await runner.WaitUntilWorkersStartedAsync(TimeSpan.FromMilliseconds(1)); // started once is started
        var ids = Enumerable.Range(0, 20).Select(_ => runner.Get<Orders>().CreateNewOrder()).ToList();
        await runner.WaitUntilIdleAsync(Idle);
        OrdersChecks.AllReservedAndPaidExactlyOnce(runner, ids);
        await runner.StopAsync();
    }

    [Fact]
    public async Task Waiting_for_workers_that_never_start_reports_why_they_could_not()
    {
        await using var runner = new MultiprocessRunner(OrdersSystem.Definition, _store, NeverStarting(maxFailedStarts: 2));
        await runner.StartAsync();
        var ex = await Assert.ThrowsAsync<WorkerStartException>(() => runner.WaitUntilWorkersStartedAsync(Idle));
        Assert.Equal(2, ex.Attempts);
        Assert.Contains("not found", ex.ErrorOutput);
        await Assert.ThrowsAsync<WorkerStartException>(() => runner.StopAsync());
    }

    [Fact]
    public async Task Stopping_while_a_restart_waits_out_its_backoff_returns_and_starts_nothing()
    {
        var options = WorkerProgram.Options() with
        {
            WorkerArguments = ["/no/such/dir/worker.dll"],
            RestartBackoff = TimeSpan.FromMinutes(10),
            MaxRestartBackoff = TimeSpan.FromMinutes(10),
        };
        await using var runner = new MultiprocessRunner(OrdersSystem.Definition, _store, options);
        await runner.StartAsync();
        var deadline = DateTime.UtcNow + Idle;
        while (runner.Workers.Any(w => IsRunning(w.ProcessId)) && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.All(runner.Workers, w => Assert.False(IsRunning(w.ProcessId))); // every worker died and waits to be restarted
        // Would hang (for the 10-minute backoff, or for ever on a worker started after the stop) if the supervisor ignored the stop.
        await runner.StopAsync().WaitAsync(Idle);
        Assert.All(runner.Workers, w => Assert.Equal(0, w.Restarts));
    }

    [Fact]
    public async Task A_hand_started_worker_with_a_bad_store_says_so_in_one_line()
    {
        var (code, output) = await RunWorkerAsync("Reservations", new Dictionary<string, string> { ["PROCESSDSL_STORE"] = "bogus:x" });
        Assert.Equal(WorkerHost.UsageExitCode, code);
        Assert.Contains("Unknown store 'bogus:x'", output);
        Assert.Contains(StoreSpec.Forms, output);
        Assert.DoesNotContain("   at ", output);
        Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    private static bool IsRunning(int processId)
    {
        try
        {
            using var process = Process.GetProcessById(processId);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static async Task<(int Code, string Output)> RunWorkerAsync(string application, IReadOnlyDictionary<string, string> environment)
    {
        var info = new ProcessStartInfo(WorkerProgram.Dotnet) { RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var arg in new[] { WorkerProgram.DllPath, "worker", "--app", application, "--supervised" }) info.ArgumentList.Add(arg);
        foreach (var (name, value) in environment) info.Environment[name] = value;
        using var process = Process.Start(info)!;
        process.StandardInput.Close();
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(Idle);
        return (process.ExitCode, await error + await output);
    }

    private Process StartWorker(string application)
    {
        var info = new ProcessStartInfo(WorkerProgram.Dotnet) { RedirectStandardInput = true, UseShellExecute = false };
        foreach (var arg in new[] { WorkerProgram.DllPath, "worker", "--app", application, "--store", Store, "--supervised", "--poll-ms", "100", "--batch-size", "7" })
            info.ArgumentList.Add(arg);
        return Process.Start(info)!;
    }
}
