using System.Diagnostics;
using System.Text;

namespace ProcessDsl.Hosting.Tests.Support;

/// <summary>Runs the dotnet CLI as a user would, in a folder, and fails with its output when it fails.</summary>
public static class DotnetCli
{
    public static string Executable =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    public static string RepositoryRoot
    {
        get
        {
            var directory = new DirectoryInfo(AppContext.BaseDirectory);
            while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "ProcessDsl.sln"))) directory = directory.Parent;
            return directory?.FullName ?? throw new InvalidOperationException("ProcessDsl.sln not found above " + AppContext.BaseDirectory);
        }
    }

    public static string Run(string workingDirectory, TimeSpan timeout, params string[] args)
    {
        var (exitCode, output) = RunAllowingFailure(workingDirectory, timeout, args);
        if (exitCode != 0)
            throw new InvalidOperationException($"dotnet {string.Join(' ', args)} (in {workingDirectory}) exited with {exitCode}:\n{output}");
        return output;
    }

    public static (int ExitCode, string Output) RunAllowingFailure(string workingDirectory, TimeSpan timeout, params string[] args)
    {
        var info = new ProcessStartInfo(Executable)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        // A test host's MSBuild settings must not leak into a build that stands for a user's.
        foreach (var name in new[] { "MSBuildExtensionsPath", "MSBuildSDKsPath", "MSBUILD_EXE_PATH", "MSBuildLoadMicrosoftTargetsReadOnly", "VSTEST_HOST_DEBUG" })
            info.Environment.Remove(name);
        var output = new StringBuilder();
        using var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet {string.Join(' ', args)} did not finish within {timeout}:\n{output}");
        }
        process.WaitForExit();
        lock (output) return (process.ExitCode, output.ToString());
    }
}
