namespace ProcessDsl.Tests.Support;

/// <summary>Where the test worker host was built, and how to start it.</summary>
public static class WorkerProgram
{
    public static string DllPath
    {
        get
        {
            // tests/ProcessDsl.Tests/bin/<Configuration>/net10.0/ -> tests/ProcessDsl.Tests.Host/bin/<Configuration>/net10.0/
            var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var framework = here.Name;
            var configuration = here.Parent!.Name;
            var tests = here.Parent.Parent!.Parent!.Parent!.FullName;
            var path = Path.Combine(tests, "ProcessDsl.Tests.Host", "bin", configuration, framework, "ProcessDsl.Tests.Host.dll");
            if (!File.Exists(path)) throw new FileNotFoundException("The test worker host was not built.", path);
            return path;
        }
    }

    public static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    public static MultiprocessOptions Options(IReadOnlyDictionary<string, string>? environment = null) => new()
    {
        WorkerExecutable = Dotnet,
        WorkerArguments = [DllPath],
        Environment = environment,
        RestartBackoff = TimeSpan.FromMilliseconds(50),
        MaxRestartBackoff = TimeSpan.FromMilliseconds(500),
        Runner = new RunnerOptions { PollInterval = TimeSpan.FromMilliseconds(200) },
    };
}
