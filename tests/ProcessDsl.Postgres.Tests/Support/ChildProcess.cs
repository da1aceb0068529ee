using System.Diagnostics;
using System.Text;

namespace ProcessDsl.Postgres.Tests.Support;

/// <summary>A real OS process running the writer program (tests/ProcessDsl.Postgres.Tests.Writer) with <c>dotnet</c>.</summary>
public sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _errors = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ChildProcess(IEnumerable<string> args)
    {
        var info = new ProcessStartInfo(DotnetHost)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ProcessDsl.Postgres.Tests.Writer.dll"));
        foreach (var arg in args) info.ArgumentList.Add(arg);
        _process = new Process { StartInfo = info, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (_output) _output.AppendLine(e.Data);
            if (e.Data == "ready") _ready.TrySetResult();
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (_errors) _errors.AppendLine(e.Data);
        };
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    public string Output
    {
        get
        {
            lock (_output) return _output.ToString();
        }
    }

    /// <summary>The dotnet host running the tests (DOTNET_HOST_PATH under <c>dotnet test</c>), else <c>dotnet</c> on the PATH.</summary>
    private static string DotnetHost =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    public static ChildProcess Start(params IEnumerable<string>[] args) => new(args.SelectMany(a => a));

    /// <summary>Waits for the "ready" line (the program has opened its store).</summary>
    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        var exited = _process.WaitForExitAsync();
        var done = await Task.WhenAny(_ready.Task, exited, Task.Delay(timeout));
        if (done != _ready.Task) throw new InvalidOperationException($"Child process {Id} did not get ready: {Describe()}");
    }

    /// <summary>Sends a line to the program's standard input.</summary>
    public void Send(string line)
    {
        _process.StandardInput.WriteLine(line);
        _process.StandardInput.Flush();
    }

    /// <summary>Waits for the program to exit successfully.</summary>
    public async Task WaitSuccessAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"Child process {Id} still running after {timeout}: {Describe()}");
        }
        if (_process.ExitCode != 0) throw new InvalidOperationException($"Child process {Id} failed with exit code {_process.ExitCode}: {Describe()}");
    }

    private string Describe()
    {
        string errors;
        lock (_errors) errors = _errors.ToString();
        return $"output: [{Output.Trim()}] errors: [{errors.Trim()}]";
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        _process.Dispose();
    }
}
