using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using ProcessDsl;
using ProcessDsl.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers a ProcessDsl system in a container.</summary>
public static class ProcessDslServiceCollectionExtensions
{
    /// <summary>
    /// Runs <paramref name="system"/> in the host: a hosted service starts the runner with the host
    /// and stops it with it; the runner is resolvable as <see cref="Runner"/>, every application as
    /// its own type (a singleton, available once the host has started), the store as
    /// <see cref="Persistence"/> (in-process runners). Applications are created by the container,
    /// so their constructors may take services.
    /// </summary>
    /// <exception cref="InvalidOperationException">A system is already registered in this container.</exception>
    public static IServiceCollection AddProcessDsl(this IServiceCollection services, SystemDefinition system, Action<ProcessDslOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(configure);
        var options = new ProcessDslOptions();
        configure(options);
        return Register(services, system, options);
    }

    /// <summary>
    /// Runs <paramref name="system"/> in the host with settings from configuration: <c>Store</c> (a
    /// store spec: <c>sqlite:DIR</c>, <c>memory</c>, <c>postgres:CONNECTION-STRING</c>) and
    /// <c>Runner</c> (<c>single</c>, <c>multi</c> (default) or <c>multiprocess</c>), for example the
    /// section <c>builder.Configuration.GetSection("ProcessDsl")</c>. <paramref name="configure"/>
    /// may adjust the options afterwards.
    /// </summary>
    /// <exception cref="InvalidOperationException"><c>Store</c> is missing, or <c>Runner</c> is not a known runner.</exception>
    public static IServiceCollection AddProcessDsl(this IServiceCollection services, SystemDefinition system, IConfiguration configuration, Action<ProcessDslOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(configuration);
        var where = configuration is IConfigurationSection section ? section.Path + ":" : "";
        var options = new ProcessDslOptions();
        var store = configuration["Store"];
        if (string.IsNullOrWhiteSpace(store))
            throw new InvalidOperationException(
                $"ProcessDsl configuration '{where}Store' is missing: set it to a store spec (sqlite:DIR, memory or postgres:CONNECTION-STRING).");
        options.UseStore(store);
        if (configuration["Runner"] is { Length: > 0 } runner)
        {
            try
            {
                options.UseRunner(ProcessDslOptions.ParseRunnerKind(runner));
            }
            catch (ArgumentException ex)
            {
                throw new InvalidOperationException($"ProcessDsl configuration '{where}Runner': {ex.Message}", ex);
            }
        }
        configure?.Invoke(options);
        return Register(services, system, options);
    }

    private static IServiceCollection Register(IServiceCollection services, SystemDefinition system, ProcessDslOptions options)
    {
        if (services.Any(d => d.ServiceType == typeof(ProcessDslRegistration)))
            throw new InvalidOperationException(
                $"AddProcessDsl was already called on this container; a container runs one system (adding '{system.Name}').");
        var registration = new ProcessDslRegistration(system, options);
        services.AddSingleton(registration);
        if (options.RunnerKind != RunnerKind.Multiprocess)
        {
            if (options.PersistenceInstance is { } instance) services.TryAddSingleton(instance);
            else services.TryAddSingleton(sp => registration.CreatePersistence(sp));
        }
        services.AddSingleton(sp => registration.CreateRunner(sp));
        foreach (var definition in system.Applications)
        {
            var name = definition.Name;
            services.AddSingleton(definition.Type, sp => ResolveApplication(sp.GetRequiredService<Runner>(), name));
        }
        services.AddHostedService<ProcessDslHostedService>();
        return services;
    }

    private static Application ResolveApplication(Runner runner, string name)
    {
        try
        {
            return runner.Get(name);
        }
        catch (InvalidOperationException ex)
        {
            throw new InvalidOperationException(
                $"Application '{name}' is available once the host has started (ProcessDsl's hosted service starts the runner): resolve it in a request, a command or a hosted service's StartAsync, not in a constructor that runs while the host builds.", ex);
        }
    }
}
