using System.Diagnostics;
using ProcessDsl.Tests.Support;

namespace ProcessDsl.Tests;

[Collection("Reservations poison")]
public sealed class MultiprocessTests : IDisposable
{
    private static readonly TimeSpan Idle = TimeSpan.FromMinutes(3);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Store => "sqlite:" + _dir.Path;

    [Fact]
    public async Task Workers_in_child_processes_process_every_order_exactly_once()
    {
        await using var runner = new MultiprocessRunner(OrdersSystem.Definition, Store, WorkerProgram.Options());
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
        await using var runner = new MultiprocessRunner(OrdersSystem.Definition, Store, WorkerProgram.Options());
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
        await using var runner = new MultiprocessRunner(OrdersSystem.Definition, Store, options);
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
    }

    private Process StartWorker(string application)
    {
        var info = new ProcessStartInfo(WorkerProgram.Dotnet) { RedirectStandardInput = true, UseShellExecute = false };
        foreach (var arg in new[] { WorkerProgram.DllPath, "worker", "--app", application, "--store", Store, "--supervised", "--poll-ms", "100", "--batch-size", "7" })
            info.ArgumentList.Add(arg);
        return Process.Start(info)!;
    }
}
