using System.Diagnostics;
using ProcessDsl.AspNetCore.Tests.Support;

namespace ProcessDsl.AspNetCore.Tests;

/// <summary>The samples as programs: LogServer serves a store, Replication copies from it over HTTP, EmailIndex runs its checks.</summary>
public sealed class CommandLineTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task LogServer_serves_a_store_and_Replication_copies_it_over_http()
    {
        var original = NewDirectory();
        var replica = NewDirectory();
        Process? server = null;
        try
        {
            using (var store = Persistence.Sqlite(original))
                ((Source)new Source().Open(store)).AddItems(321);

            server = Start("LogServer.dll", "serve", "--store", "sqlite:" + original, "--apps", "Source", "--urls", "http://127.0.0.1:0", "--token", "t0k");
            var line = await server.StandardOutput.ReadLineAsync().WaitAsync(Limit);
            Assert.NotNull(line);
            Assert.StartsWith("serving Source: http://127.0.0.1:", line, StringComparison.Ordinal);
            var current = new Uri(line["serving Source: ".Length..]);
            var logs = new Uri(current, "..");
            Assert.EndsWith("/logs/", logs.AbsolutePath, StringComparison.Ordinal);

            using (var remote = new RemoteNotificationLog(logs, "Source", new RemoteNotificationLogOptions { BearerToken = "t0k" }))
            {
                Assert.Equal(100, remote.SectionSize); // the tool serves sections of 100 by default
                Assert.Equal(321, new NotificationLogReader(remote).Read().Count);
            }

            var (code, output) = await RunAsync("Replication.dll", "run", "--from", logs.ToString(), "--app", "Source", "--replica", "sqlite:" + replica, "--token", "t0k");
            Assert.True(code == 0, output);
            Assert.Contains("copied 321; replica at 321", output, StringComparison.Ordinal);
            (code, output) = await RunAsync("Replication.dll", "run", "--from", logs.ToString(), "--app", "Source", "--replica", "sqlite:" + replica, "--token", "t0k");
            Assert.True(code == 0, output);
            Assert.Contains("resuming after 321", output, StringComparison.Ordinal);
            Assert.Contains("copied 0; replica at 321", output, StringComparison.Ordinal);

            using var originalStore = Persistence.Sqlite(original);
            using var replicaStore = Persistence.Sqlite(replica);
            var want = new ReplicationSample.ReplicaOf("Source").Open(originalStore).NotificationLog.Select(0, 1_000).Items;
            var got = new ReplicationSample.ReplicaOf("Source").Open(replicaStore).NotificationLog.Select(0, 1_000).Items;
            Assert.Equal(want.Select(n => (n.Id, n.OriginatorId, n.OriginatorVersion, n.Topic, Convert.ToBase64String(n.State))),
                got.Select(n => (n.Id, n.OriginatorId, n.OriginatorVersion, n.Topic, Convert.ToBase64String(n.State))));
        }
        finally
        {
            if (server is not null)
            {
                if (!server.HasExited) server.Kill(entireProcessTree: true);
                await server.WaitForExitAsync().WaitAsync(Limit);
                server.Dispose();
            }
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            foreach (var directory in new[] { original, replica })
                if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Replication_demo_and_EmailIndex_run_their_checks()
    {
        var (code, output) = await RunAsync("Replication.dll", "demo", "--http");
        Assert.True(code == 0, output);
        Assert.Contains("identical to the original's", output, StringComparison.Ordinal);

        (code, output) = await RunAsync("EmailIndex.dll", "--runner", "multi");
        Assert.True(code == 0, output);
        Assert.Contains("all checks passed", output, StringComparison.Ordinal);
    }

    private static string NewDirectory() =>
        Path.Combine(Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(), "processdsl-cli-" + Guid.NewGuid().ToString("N"));

    private static Process Start(string program, params string[] arguments)
    {
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(ProgramPath(program));
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        return Process.Start(info) ?? throw new InvalidOperationException("Could not start " + program);
    }

    /// <summary>A sample's program in its own build output (tests/X/bin/CONFIG/TFM/ to samples/NAME/bin/CONFIG/TFM/NAME.dll), so its own dependencies load.</summary>
    private static string ProgramPath(string program)
    {
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var framework = here.Name;
        var configuration = here.Parent!.Name;
        var root = here.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
        var name = Path.GetFileNameWithoutExtension(program);
        var path = Path.Combine(root, "samples", name, "bin", configuration, framework, program);
        return File.Exists(path) ? path : Path.Combine(AppContext.BaseDirectory, program);
    }

    private static async Task<(int Code, string Output)> RunAsync(string program, params string[] arguments)
    {
        using var process = Start(program, arguments);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(Limit);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return (process.ExitCode, await stdout + await stderr);
    }
}
