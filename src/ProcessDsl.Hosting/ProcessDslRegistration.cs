using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ProcessDsl.Hosting;

/// <summary>What one <c>AddProcessDsl</c> call registered: the system and its options; it makes the runner.</summary>
internal sealed class ProcessDslRegistration(SystemDefinition system, ProcessDslOptions options)
{
    public SystemDefinition System { get; } = system;

    public ProcessDslOptions Options { get; } = options;

    /// <summary>The runner's settings with the container's application factory and logging filled in.</summary>
    public RunnerOptions RunnerOptions(IServiceProvider services)
    {
        var runner = Options.Runner;
        return runner with
        {
            ApplicationFactory = runner.ApplicationFactory ?? (definition => CreateApplication(services, definition)),
            LoggerFactory = runner.LoggerFactory ?? services.GetService<ILoggerFactory>(),
        };
    }

    public Runner CreateRunner(IServiceProvider services)
    {
        var options = RunnerOptions(services);
        if (Options.RunnerKind == RunnerKind.Multiprocess)
        {
            var spec = Options.StoreSpecification ?? throw new InvalidOperationException(
                $"System '{System.Name}': the multiprocess runner needs a store spec its workers can open: call options.UseStore(\"sqlite:DIR\") or UseStore(\"postgres:...\") (configuration key Store), not UsePersistence.");
            return new MultiprocessRunner(System, spec, Options.Multiprocess with { Runner = options });
        }
        var persistence = services.GetRequiredService<Persistence>();
        return Options.RunnerKind == RunnerKind.SingleThreaded
            ? new SingleThreadedRunner(System, persistence, options)
            : new MultiThreadedRunner(System, persistence, options);
    }

    /// <summary>The store for the in-process runners, as the options name it.</summary>
    public Persistence CreatePersistence(IServiceProvider services)
    {
        if (Options.PersistenceFactory is { } factory)
            return factory(services) ?? throw new InvalidOperationException($"System '{System.Name}': the UsePersistence factory returned null.");
        if (Options.StoreSpecification is { } spec) return StoreSpec.Open(spec);
        throw new InvalidOperationException(
            $"System '{System.Name}' has no store: call options.UsePersistence(Persistence.Sqlite(\"data\")), UsePersistence(sp => ...) or UseStore(\"sqlite:DIR\") in AddProcessDsl (configuration key Store).");
    }

    public string DescribeStore() =>
        Options.StoreSpecification is { } spec ? Redact(spec)
        : Options.PersistenceInstance is { } instance ? instance.GetType().Name
        : Options.PersistenceFactory is not null ? "a store from the container"
        : "no store";

    private static string Redact(string spec)
    {
        // A PostgreSQL connection string may carry a password; the log names the kind only.
        var colon = spec.IndexOf(':', StringComparison.Ordinal);
        return colon > 0 && spec.StartsWith("postgres", StringComparison.Ordinal) ? spec[..colon] + ":..." : spec;
    }

    internal static Application CreateApplication(IServiceProvider services, ApplicationDefinition definition)
    {
        try
        {
            return (Application)ActivatorUtilities.CreateInstance(services, definition.Type);
        }
        catch (InvalidOperationException ex)
        {
            throw new InvalidOperationException(
                $"The container cannot create application '{definition.Name}' ({definition.Type.FullName}): {ex.Message} Register the services its constructor takes before the host starts.", ex);
        }
    }
}
