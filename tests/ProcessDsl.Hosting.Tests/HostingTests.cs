using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ProcessDsl.Hosting.Tests.Support;

namespace ProcessDsl.Hosting.Tests;

public sealed class HostingTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private static IHost Build(Action<IServiceCollection> configure, Dictionary<string, string?>? settings = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        if (settings is not null) builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddSingleton<PaymentGateway>();
        configure(builder.Services);
        return builder.Build();
    }

    [Fact]
    public async Task A_host_runs_the_system_and_resolves_every_application_by_its_type()
    {
        using var host = Build(services => services.AddProcessDsl(ShopSystem.Definition, options =>
        {
            options.UsePersistence(Persistence.Sqlite(_directory.Path));
            options.UseRunner(RunnerKind.MultiThreaded);
        }));
        await host.StartAsync();

        var runner = host.Services.GetRequiredService<Runner>();
        Assert.IsType<MultiThreadedRunner>(runner);
        var orders = host.Services.GetRequiredService<Orders>();
        Assert.Same(runner.Get<Orders>(), orders);
        Assert.Same(runner.Get<Reservations>(), host.Services.GetRequiredService<Reservations>());
        Assert.Same(runner.Get<Summaries>(), host.Services.GetRequiredService<Summaries>());
        var payments = host.Services.GetRequiredService<Payments>();
        Assert.Same(host.Services.GetRequiredService<PaymentGateway>(), payments.Gateway);

        var ids = Enumerable.Range(0, 20).Select(_ => orders.CreateNewOrder()).ToArray();
        await runner.WaitUntilIdleAsync(TimeSpan.FromSeconds(30));

        Assert.All(ids, id => Assert.NotNull(orders.GetOrder(id).PaymentId));
        Assert.Equal(20, payments.Gateway.Charges);
        Assert.Equal(20, host.Services.GetRequiredService<Summaries>().Query<OrderSummary>().Count(s => s.Status == "paid"));

        await host.StopAsync();
    }

    [Fact]
    public async Task Configuration_names_the_store_and_the_runner()
    {
        using var host = Build(
            services => services.AddProcessDsl(ShopSystem.Definition, new ConfigurationBuilder()
                .AddInMemoryCollection(new Dictionary<string, string?>
                {
                    ["ProcessDsl:Store"] = "sqlite:" + _directory.Path,
                    ["ProcessDsl:Runner"] = "single",
                }).Build().GetSection("ProcessDsl")));
        await host.StartAsync();

        Assert.IsType<SingleThreadedRunner>(host.Services.GetRequiredService<Runner>());
        var orders = host.Services.GetRequiredService<Orders>();
        var id = orders.CreateNewOrder();
        Assert.NotNull(orders.GetOrder(id).PaymentId); // single-threaded: done when the command returns
        await host.StopAsync();

        // The store outlives the host: a new host on the same directory sees the order.
        using var again = Build(services => services.AddProcessDsl(ShopSystem.Definition, o => o.UseStore("sqlite:" + _directory.Path).UseRunner(RunnerKind.SingleThreaded)));
        await again.StartAsync();
        Assert.NotNull(again.Services.GetRequiredService<Orders>().GetOrder(id).PaymentId);
        await again.StopAsync();
    }

    [Fact]
    public void Configuration_without_a_store_is_a_clear_error()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["ProcessDsl:Runner"] = "multi" }).Build();
        var error = Assert.Throws<InvalidOperationException>(() => new ServiceCollection().AddProcessDsl(ShopSystem.Definition, configuration.GetSection("ProcessDsl")));
        Assert.Contains("'ProcessDsl:Store' is missing", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Configuration_with_an_unknown_runner_is_a_clear_error()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ProcessDsl:Store"] = "memory",
            ["ProcessDsl:Runner"] = "threads",
        }).Build();
        var error = Assert.Throws<InvalidOperationException>(() => new ServiceCollection().AddProcessDsl(ShopSystem.Definition, configuration.GetSection("ProcessDsl")));
        Assert.Contains("'ProcessDsl:Runner'", error.Message, StringComparison.Ordinal);
        Assert.Contains("use single, multi or multiprocess", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_second_system_in_one_container_is_refused()
    {
        var services = new ServiceCollection().AddProcessDsl(ShopSystem.Definition, o => o.UseStore("memory"));
        var error = Assert.Throws<InvalidOperationException>(() => services.AddProcessDsl(ShopSystem.Definition, o => o.UseStore("memory")));
        Assert.Contains("already called", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_application_resolved_before_the_host_starts_says_when_it_is_available()
    {
        using var host = Build(services => services.AddProcessDsl(ShopSystem.Definition, o => o.UseStore("memory")));
        var error = Assert.Throws<InvalidOperationException>(() => host.Services.GetRequiredService<Orders>());
        Assert.Contains("available once the host has started", error.Message, StringComparison.Ordinal);
        await host.StartAsync();
        Assert.NotNull(host.Services.GetRequiredService<Orders>());
        await host.StopAsync();
    }

    [Fact]
    public async Task An_application_whose_services_are_missing_fails_the_start_naming_it()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddProcessDsl(ShopSystem.Definition, o => o.UseStore("memory")); // no PaymentGateway registered
        using var host = builder.Build();
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());
        Assert.Contains("cannot create application 'Payments'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Multiprocess_needs_a_store_spec()
    {
        using var host = Build(services => services.AddProcessDsl(ShopSystem.Definition, o => o.UsePersistence(Persistence.InMemory()).UseRunner(RunnerKind.Multiprocess)));
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());
        Assert.Contains("UseStore", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stopping_the_host_stops_the_runner_and_a_restart_resumes_where_it_stopped()
    {
        var gateway = new PaymentGateway();
        gateway.Open.Reset(); // payments wait: work is in flight when the host stops
        Guid id;
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddSingleton(gateway);
        builder.Services.AddProcessDsl(ShopSystem.Definition, o =>
        {
            o.UseStore("sqlite:" + _directory.Path);
            o.StopTimeout = TimeSpan.FromSeconds(60);
        });
        using (var host = builder.Build())
        {
            await host.StartAsync();
            id = host.Services.GetRequiredService<Orders>().CreateNewOrder();
            var stopping = host.StopAsync();
            gateway.Open.Set();
            await stopping;
        }

        using var again = Build(services => services.AddProcessDsl(ShopSystem.Definition, o => o.UseStore("sqlite:" + _directory.Path)));
        await again.StartAsync();
        await again.Services.GetRequiredService<Runner>().WaitUntilIdleAsync(TimeSpan.FromSeconds(30));
        Assert.NotNull(again.Services.GetRequiredService<Orders>().GetOrder(id).PaymentId);
        await again.StopAsync();
    }

    [Fact]
    public async Task Stopping_is_bounded_by_the_stop_timeout_when_a_step_hangs()
    {
        var gateway = new PaymentGateway();
        gateway.Open.Reset(); // Payments hangs in its policy
        var logs = new ListLoggerProvider();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.AddProvider(logs);
        builder.Services.AddSingleton(gateway);
        builder.Services.AddProcessDsl(ShopSystem.Definition, o =>
        {
            o.UseStore("sqlite:" + _directory.Path);
            o.StopTimeout = TimeSpan.FromMilliseconds(200);
        });
        var host = builder.Build();
        try
        {
            await host.StartAsync();
            host.Services.GetRequiredService<Orders>().CreateNewOrder();
            Assert.True(gateway.Entered.Wait(TimeSpan.FromSeconds(30)), "Payments never reached the gateway");

            await host.StopAsync(); // returns although the gateway is still closed
            Assert.False(gateway.Open.IsSet);
            Assert.Contains(logs.Entries, e => e.EventId.Id == 2005 && e.Level == LogLevel.Warning && e.Message.Contains("did not stop within", StringComparison.Ordinal));
            Assert.Contains(logs.Entries, e => e.EventId.Id == 2001 && e.Category == "ProcessDsl.Hosting.ProcessDslHostedService");
        }
        finally
        {
            // Let the abandoned step finish here, so its last measurements do not land in a later test.
            gateway.Open.Set();
            SpinWait.SpinUntil(() => gateway.Charges == 1, TimeSpan.FromSeconds(30));
            await Task.Delay(500);
            host.Dispose();
        }
    }
}
