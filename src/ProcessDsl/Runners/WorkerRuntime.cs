using System.Reflection.PortableExecutable;

namespace ProcessDsl;

/// <summary>
/// The runtime settings a multiprocess runner gives its workers: tiered compilation off. A worker
/// is a long-lived process that runs the same few hot paths (read a batch, run the policies, commit)
/// from its first step on; with tiered compilation on, it first runs them as quickly compiled code
/// and then compiles each of them again, optimised, on a background thread, as every other worker
/// does at the same time. On a small machine those compilations take the cores the work needs.
/// With it off, each method is compiled once, optimised, when first called, and precompiled code
/// (the framework's, or all of a program published ReadyToRun) is used as it is. The price is a
/// slower start of each worker, before it takes its first step (measured in docs/benchmarks.md,
/// "Workers compile once"). A program whose configuration or environment already says how to
/// compile keeps its choice.
/// </summary>
internal static class WorkerRuntime
{
    /// <summary>The environment variable that turns tiered compilation on or off (the runtime also reads the older <c>COMPlus_</c> prefix).</summary>
    internal const string TieredCompilationVariable = "DOTNET_TieredCompilation";

    /// <summary>
    /// Adds the worker runtime settings to <paramref name="environment"/> (the variables the workers
    /// get in addition to the parent's), unless the caller's or the parent's settings decide already.
    /// </summary>
    public static void Configure(IDictionary<string, string> environment, Func<string, string?> parentVariable, object? configuredTiering)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(parentVariable);
        if (environment.ContainsKey(TieredCompilationVariable) || environment.ContainsKey("COMPlus_TieredCompilation")) return;
        if (parentVariable(TieredCompilationVariable) is not null || parentVariable("COMPlus_TieredCompilation") is not null) return;
        if (configuredTiering is not null) return; // <TieredCompilation> in the project (runtimeconfig.json)
        environment[TieredCompilationVariable] = "0";
    }

    /// <summary>Configures <paramref name="environment"/> for this process's program.</summary>
    public static void Configure(IDictionary<string, string> environment) =>
        Configure(environment, System.Environment.GetEnvironmentVariable, AppContext.GetData("System.Runtime.TieredCompilation"));

    /// <summary>
    /// True when the assembly file at <paramref name="path"/> holds ReadyToRun code (false when there is
    /// none or it cannot be read). Asked of a program's <c>linq2db.dll</c>, it tells a program published
    /// ReadyToRun: that package ships IL only (the benchmark harness reports it).
    /// </summary>
    public static bool IsPrecompiled(string path)
    {
        if (string.IsNullOrEmpty(path) || !File.Exists(path)) return false;
        try
        {
            using var stream = File.OpenRead(path);
            using var reader = new PEReader(stream);
            return reader.PEHeaders.CorHeader is { ManagedNativeHeaderDirectory.Size: > 0 };
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or BadImageFormatException)
        {
            return false;
        }
    }
}
