using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using ProcessDsl.Hosting.Tests.Support;

namespace ProcessDsl.Hosting.Tests;

public sealed class HealthTests : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly PaymentGateway _gateway = new();
    private readonly ManualClock _clock = new();

    public void Dispose() => _directory.Dispose();

    private IHost Build(long lagThreshold = 1000, TimeSpan? lagWindow = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddSingleton(_gateway);
        builder.Services.AddProcessDsl(ShopSystem.Definition, o =>
        {
            o.UseStore("sqlite:" + _directory.Path);
            o.Runner = o.Runner with
            {
                Processing = new ProcessingOptions { PolicyAttempts = 2, InitialBackoff = TimeSpan.FromMilliseconds(1) },
                PollInterval = TimeSpan.FromMilliseconds(100),
            };
        });
        builder.Services.AddHealthChecks().AddProcessDsl(h =>
        {
            h.LagThreshold = lagThreshold;
            h.LagWindow = lagWindow ?? TimeSpan.FromMinutes(1);
            h.TimeProvider = _clock;
        });
        return builder.Build();
    }

    private static async Task<HealthReportEntry> CheckAsync(IHost host)
    {
        var report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        return report.Entries["processdsl"];
    }

    [Fact]
    public async Task A_running_system_that_keeps_up_is_healthy()
    {
        using var host = Build();
        await host.StartAsync();
        var orders = host.Services.GetRequiredService<Orders>();
        for (var i = 0; i < 5; i++) orders.CreateNewOrder();
        await host.Services.GetRequiredService<Runner>().WaitUntilIdleAsync(TimeSpan.FromSeconds(30));

        var entry = await CheckAsync(host);
        Assert.Equal(HealthStatus.Healthy, entry.Status);
        Assert.Equal(0L, entry.Data["Payments<-Reservations"]);
        await host.StopAsync();
    }

    [Fact]
    public async Task A_poisoned_policy_makes_the_system_unhealthy_naming_the_event()
    {
        _gateway.Limit = 100;
        using var host = Build();
        await host.StartAsync();
        var orders = host.Services.GetRequiredService<Orders>();
        orders.CreateNewOrder(10);
        orders.CreateNewOrder(5000); // declined by the gateway on every attempt
        var runner = host.Services.GetRequiredService<Runner>();
        await Assert.ThrowsAsync<ProcessingException>(() => runner.WaitUntilIdleAsync(TimeSpan.FromSeconds(30)));

        var entry = await CheckAsync(host);
        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.Contains("'Payments' stopped following 'Reservations' at notification 2", entry.Description, StringComparison.Ordinal);
        Assert.Contains("Reservation.Created", entry.Description, StringComparison.Ordinal);
        Assert.Contains("card declined", entry.Description, StringComparison.Ordinal);
        Assert.Equal("Payments", entry.Data["application"]);
        Assert.Equal("Reservations", entry.Data["upstream"]);
        Assert.Equal(2L, entry.Data["notification_id"]);
        Assert.IsType<ProcessingException>(entry.Exception);
        await host.StopAsync(); // the error was reported; stopping the host still succeeds
    }

    [Fact]
    public async Task A_follower_lagging_longer_than_the_window_is_degraded_and_healthy_again_once_caught_up()
    {
        _gateway.Open.Reset(); // the gateway hangs: Payments falls behind Reservations
        using var host = Build(lagThreshold: 3, lagWindow: TimeSpan.FromMinutes(1));
        await host.StartAsync();
        var orders = host.Services.GetRequiredService<Orders>();
        for (var i = 0; i < 5; i++) orders.CreateNewOrder();
        var reservations = host.Services.GetRequiredService<Reservations>();
        while (reservations.NotificationLog["current"].Items.Count < 5) await Task.Delay(10);

        var first = await CheckAsync(host);
        Assert.Equal(HealthStatus.Healthy, first.Status); // lagging, but not for longer than the window yet
        Assert.True((long)first.Data["Payments<-Reservations"] >= 3);

        _clock.Now += TimeSpan.FromSeconds(61);
        var later = await CheckAsync(host);
        Assert.Equal(HealthStatus.Degraded, later.Status);
        Assert.Contains("'Payments' is", later.Description, StringComparison.Ordinal);
        Assert.Contains("behind 'Reservations'", later.Description, StringComparison.Ordinal);

        _gateway.Open.Set();
        await host.Services.GetRequiredService<Runner>().WaitUntilIdleAsync(TimeSpan.FromSeconds(30));
        _clock.Now += TimeSpan.FromMinutes(5);
        Assert.Equal(HealthStatus.Healthy, (await CheckAsync(host)).Status);
        await host.StopAsync();
    }
}
