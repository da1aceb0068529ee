using System.Reflection;
using System.Reflection.PortableExecutable;

namespace ProcessDsl;

/// <summary>
/// The runtime settings a multiprocess runner gives its workers. A program published ReadyToRun
/// (<c>dotnet publish -p:PublishReadyToRun=true</c>) carries precompiled code for its dependencies; with
/// tiered compilation on, every worker still recompiles the hot methods of that code on a background
/// thread, and on a small machine those compilations take the cores the work needs (measured in
/// docs/benchmarks.md, "Multiprocess workers of a precompiled program"). So workers of a precompiled
/// program run with tiered compilation off: precompiled code as it is, anything else compiled once,
/// optimised. A program built without ReadyToRun keeps tiered compilation (compiling everything fully
/// optimised at start would be slower), as does any program whose configuration or environment
/// already says how to compile.
/// </summary>
internal static class WorkerRuntime
{
    /// <summary>The environment variable that turns tiered compilation on or off (the runtime also reads the older <c>COMPlus_</c> prefix).</summary>
    internal const string TieredCompilationVariable = "DOTNET_TieredCompilation";

    /// <summary>
    /// Adds the worker runtime settings to <paramref name="environment"/> (the variables the workers
    /// get in addition to the parent's), unless the caller's or the parent's settings decide already.
    /// </summary>
    public static void Configure(IDictionary<string, string> environment, Func<string, string?> parentVariable, object? configuredTiering, bool precompiled)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(parentVariable);
        if (environment.ContainsKey(TieredCompilationVariable) || environment.ContainsKey("COMPlus_TieredCompilation")) return;
        if (parentVariable(TieredCompilationVariable) is not null || parentVariable("COMPlus_TieredCompilation") is not null) return;
        if (configuredTiering is not null) return; // <TieredCompilation> in the project (runtimeconfig.json)
        if (precompiled) environment[TieredCompilationVariable] = "0";
    }

    /// <summary>Configures <paramref name="environment"/> for this process's program.</summary>
    public static void Configure(IDictionary<string, string> environment) =>
        Configure(environment, System.Environment.GetEnvironmentVariable, AppContext.GetData("System.Runtime.TieredCompilation"), IsPrecompiled(typeof(LinqToDB.Data.DataConnection).Assembly));

    /// <summary>
    /// True when the assembly's file holds ReadyToRun code. LinqToDB's is the one asked: its package
    /// ships IL only, so precompiled code in it means the program was published ReadyToRun, and it is
    /// what a worker spends most of its start-up compiling.
    /// </summary>
    public static bool IsPrecompiled(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        return IsPrecompiled(assembly.Location);
    }

    /// <summary>True when the assembly file at <paramref name="path"/> holds ReadyToRun code (false when there is none or it cannot be read).</summary>
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
