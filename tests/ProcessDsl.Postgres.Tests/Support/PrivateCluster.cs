using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Xunit.Sdk;

namespace ProcessDsl.Postgres.Tests.Support;

/// <summary>
/// A PostgreSQL cluster of one test's own, started with .ci/postgres.sh on a free port, so the test
/// may restart it without disturbing tests that share the main server. Destroyed on dispose.
/// </summary>
public sealed class PrivateCluster : IDisposable
{
    private readonly Dictionary<string, string> _environment;

    private PrivateCluster(string script, int port)
    {
        Script = script;
        Port = port;
        _environment = new Dictionary<string, string>
        {
            ["PROCESSDSL_PG_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["PROCESSDSL_PG_DATA"] = $"/tmp/processdsl-pg-test-{port}-{Guid.NewGuid():N}",
            ["PROCESSDSL_PG_DATABASE"] = "restart_tests",
        };
        var line = Run("start").Trim();
        const string prefix = "export PROCESSDSL_POSTGRES='";
        if (!line.StartsWith(prefix, StringComparison.Ordinal)) throw new InvalidOperationException($"Unexpected output of {script}: {line}");
        ConnectionString = line[prefix.Length..^1];
    }

    public string Script { get; }

    public int Port { get; }

    public string ConnectionString { get; }

    /// <summary>The repository's .ci/postgres.sh, or null when the tests run elsewhere.</summary>
    public static string? FindScript()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, ".ci", "postgres.sh");
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    public static string? Skip
    {
        get
        {
            if (PostgresServer.Skip is { } reason) return reason;
            if (FindScript() is null) return "No .ci/postgres.sh above the test directory to start a private cluster with.";
            var bin = Environment.GetEnvironmentVariable("PROCESSDSL_PG_BIN") is { Length: > 0 } b ? b : "/usr/lib/postgresql/15/bin";
            return File.Exists(Path.Combine(bin, "pg_ctl")) ? null : $"No PostgreSQL binaries in {bin} to start a private cluster with (set PROCESSDSL_PG_BIN).";
        }
    }

    public static PrivateCluster Start() => new(FindScript() ?? throw new InvalidOperationException("No .ci/postgres.sh"), FreePort());

    /// <summary>Restarts the server (fast shutdown: every connection is cut).</summary>
    public void Restart() => Run("restart");

    public void Stop() => Run("stop");

    public void StartAgain() => Run("start");

    public void Dispose()
    {
        try
        {
            Run("destroy");
        }
        catch (InvalidOperationException)
        {
            // Best effort: the data directory is under /tmp.
        }
    }

    private string Run(string command)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Script);
        info.ArgumentList.Add(command);
        foreach (var (key, value) in _environment) info.Environment[key] = value;
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2))) process.Kill(entireProcessTree: true);
        if (process.ExitCode != 0) throw new InvalidOperationException($"{Script} {command} failed ({process.ExitCode}): {errors.Result}");
        return output.Result;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>A fact that starts a private PostgreSQL cluster: skipped, with the reason, where it cannot.</summary>
public sealed class PrivateClusterFactAttribute : FactAttribute
{
    public PrivateClusterFactAttribute()
    {
        if (PrivateCluster.Skip is { } reason) Skip = reason;
    }
}
