using System.Diagnostics;
using System.Runtime.InteropServices;

namespace ProcessDsl.Tests.Shared;

/// <summary>
/// The arguments a test gives <c>dotnet publish -p:PublishAot=true</c> on this machine, and how it runs
/// what it published (compiled into each test project that publishes a program with Native AOT).
/// </summary>
internal static class NativeAotPublish
{
    /// <summary>The runtime identifier of this machine, as <c>-r</c> takes it: linux-x64, osx-arm64, win-x64, ...</summary>
    public static string RuntimeIdentifier =>
        (OperatingSystem.IsWindows() ? "win-" : OperatingSystem.IsMacOS() ? "osx-" : "linux-") +
        RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant();

    /// <summary>Native AOT links with clang; where only gcc is installed (Linux), the property that links with gcc.</summary>
    public static IEnumerable<string> LinkerArguments =>
        OperatingSystem.IsLinux() && !OnPath("clang") && OnPath("gcc") ? ["-p:CppCompilerAndLinker=gcc"] : [];

    /// <summary>The native program's file name.</summary>
    public static string Program(string name) => OperatingSystem.IsWindows() ? name + ".exe" : name;

    /// <summary>Runs a program (a published one, say) to its end; kills it and throws after <paramref name="timeout"/>.</summary>
    public static (int Code, string Output, string Errors) Run(string program, IEnumerable<string> arguments, string? workingDirectory, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (workingDirectory is not null) start.WorkingDirectory = workingDirectory;
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {program}.");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', start.ArgumentList)} did not finish within {timeout}.");
        }
        process.WaitForExit();
        return (process.ExitCode, output.GetAwaiter().GetResult(), errors.GetAwaiter().GetResult());
    }

    private static bool OnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(Path.Combine(dir, name)));
}
