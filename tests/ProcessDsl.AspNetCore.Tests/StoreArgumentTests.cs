using System.Diagnostics;

namespace ProcessDsl.AspNetCore.Tests;

/// <summary>
/// The samples as programs given a wrong store: one line saying what was wrong (and what is
/// accepted), a distinct exit code, no stack trace; tools that only read never create a store.
/// </summary>
public sealed class StoreArgumentTests : IDisposable
{
    private const int BadArguments = 2, StoreMissing = 3, StoreUnreachable = 4;
    private const string Unreachable = "postgres:Host=127.0.0.1;Port=1;Username=nobody;Timeout=5";
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(90);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "processdsl-args-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }

    public static TheoryData<string, string[]> BogusStore => new()
    {
        { "Orders.dll", ["--store", "bogus:x", "--orders", "1", "--no-progress"] },
        { "Orders.dll", ["status", "--store", "bogus:x"] },
        { "Orders.dll", ["worker", "--app", "Reservations", "--store", "bogus:x"] },
        { "LogServer.dll", ["serve", "--store", "bogus:x", "--apps", "Orders", "--urls", "http://127.0.0.1:0"] },
    };

    [Theory]
    [MemberData(nameof(BogusStore))]
    public async Task An_unknown_store_kind_is_one_line_naming_the_accepted_forms(string program, string[] arguments)
    {
        var (code, output) = await RunAsync(program, arguments);
        Assert.Equal(BadArguments, code);
        Assert.Equal($"Unknown store 'bogus:x': use {StoreSpec.Forms}.", OneLine(output));
    }

    public static TheoryData<string, string[], string> UnreachableStore => new()
    {
        { "Orders.dll", ["--store", Unreachable, "--orders", "1", "--no-progress"], "could not be reached: Failed to connect to 127.0.0.1:1" },
        { "Orders.dll", ["--store", Unreachable, "--orders", "1", "--no-progress", "--runner", "multiprocess"], "could not be reached: Failed to connect to 127.0.0.1:1" },
        { "Orders.dll", ["status", "--store", Unreachable], "did not answer: Failed to connect to 127.0.0.1:1" },
        { "Orders.dll", ["worker", "--app", "Reservations", "--store", Unreachable], "could not start: NpgsqlException: Failed to connect to 127.0.0.1:1" },
        { "LogServer.dll", ["serve", "--store", Unreachable, "--apps", "Orders", "--urls", "http://127.0.0.1:0"], "did not answer: Failed to connect to 127.0.0.1:1" },
    };

    [Theory]
    [MemberData(nameof(UnreachableStore))]
    public async Task An_unreachable_database_is_one_line_and_its_own_exit_code(string program, string[] arguments, string expected)
    {
        var (code, output) = await RunAsync(program, arguments);
        Assert.Equal(StoreUnreachable, code);
        var line = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Last();
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Orders.dll", "status")]
    [InlineData("LogServer.dll", "serve")]
    public async Task Reading_tools_say_a_missing_store_does_not_exist_and_create_nothing(string program, string command)
    {
        string[] Arguments(string spec) => command == "status"
            ? ["status", "--store", spec]
            : ["serve", "--store", spec, "--apps", "Orders", "--urls", "http://127.0.0.1:0"];

        var (code, output) = await RunAsync(program, Arguments("sqlite:" + _directory));
        Assert.Equal(StoreMissing, code);
        Assert.Equal($"There is no store at {_directory}: the directory does not exist (a store is created by running the system on it).", OneLine(output));
        Assert.False(Directory.Exists(_directory), "the tool created the store's directory");

        Directory.CreateDirectory(_directory);
        (code, output) = await RunAsync(program, Arguments("sqlite:" + _directory));
        Assert.Equal(StoreMissing, code);
        Assert.Equal($"The store sqlite:{_directory} has no application 'Orders': {Path.Combine(_directory, "orders.db")} does not exist.", OneLine(output));
        Assert.Empty(Directory.GetFileSystemEntries(_directory));
    }

    [Fact]
    public async Task Status_reads_a_store_the_job_created()
    {
        var (code, output) = await RunAsync("Orders.dll", "--store", "sqlite:" + _directory, "--orders", "3", "--runner", "single", "--no-progress");
        Assert.True(code == 0, output);
        (code, output) = await RunAsync("Orders.dll", "status", "--store", "sqlite:" + _directory, "--json");
        Assert.True(code == 0, output);
        Assert.Contains("\"application\": \"Payments\"", output, StringComparison.Ordinal);
        Assert.Contains("\"newestNotificationId\": 3", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_job_reports_how_busy_each_writer_was_and_the_saves_per_commit()
    {
        var (code, output) = await RunAsync("Orders.dll", "--store", "sqlite:" + _directory, "--orders", "20", "--callers", "4", "--runner", "multi", "--no-progress");
        Assert.True(code == 0, output);
        var line = output.Split('\n').Select(l => l.Trim()).Single(l => l.StartsWith("writer_held_share ", StringComparison.Ordinal));
        var values = line.Split(' ').Skip(1).Select(p => p.Split('=')).ToDictionary(p => p[0], p => double.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture));
        // Every application writes; a writer is held by one at a time, so never more than the whole run.
        Assert.Equal(["Orders", "Payments", "Reservations", "Summaries", "saves_per_commit"], values.Keys.Order(StringComparer.Ordinal));
        Assert.All(values.Where(v => v.Key != "saves_per_commit"), v => Assert.InRange(v.Value, 0.0, 1.0));
        Assert.True(values["Orders"] > 0, line);
        // 20 saves over at most 20 commits, at least 1 each.
        Assert.InRange(values["saves_per_commit"], 1.0, 20.0);

        (code, output) = await RunAsync("Orders.dll", "--store", "memory", "--orders", "2", "--runner", "single", "--no-progress");
        Assert.True(code == 0, output);
        Assert.Contains("writer_held_share none ", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_job_reports_the_processor_time_its_orders_cost()
    {
        var (code, output) = await RunAsync("Orders.dll", "--store", "sqlite:" + _directory, "--orders", "200", "--runner", "single", "--no-progress");
        Assert.True(code == 0, output);
        var line = output.Split('\n').Select(l => l.Trim()).Single(l => l.StartsWith("cpu_ms_per_order=", StringComparison.Ordinal));
        var values = line.Split(' ').Select(p => p.Split('=')).ToDictionary(p => p[0], p => double.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture));
        // Two hundred orders on SQLite files cost this process some processor time, and not seconds each.
        Assert.InRange(values["cpu_ms_per_order"], 0.001, 1000.0);
        if (OperatingSystem.IsLinux())
        {
            // The machine's busy time includes this process's (its ticks are 10 ms: allow for the rounding).
            var machine = values["machine_cpu_ms_per_order"];
            Assert.True(machine * 200 + 20 >= values["cpu_ms_per_order"] * 200, line);
        }
        else
        {
            Assert.DoesNotContain("machine_cpu_ms_per_order", line, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Warm_up_orders_go_through_the_system_and_are_checked_but_not_counted()
    {
        var (code, output) = await RunAsync("Orders.dll", "--store", "sqlite:" + _directory, "--orders", "3", "--warmup", "2", "--runner", "single", "--no-progress");
        Assert.True(code == 0, output);
        Assert.Contains("warmup_orders=2 ", output, StringComparison.Ordinal);
        Assert.Contains("orders=3 paid=3 ", output, StringComparison.Ordinal);
        (code, output) = await RunAsync("Orders.dll", "status", "--store", "sqlite:" + _directory, "--json");
        Assert.True(code == 0, output);
        Assert.Contains("\"newestNotificationId\": 5", output, StringComparison.Ordinal);   // 2 + 3 payments

        (code, output) = await RunAsync("Orders.dll", "--store", "memory", "--orders", "1", "--warmup", "-1", "--no-progress");
        Assert.Equal(2, code);
        Assert.Contains("--warmup must be 0 or more.", output, StringComparison.Ordinal);
    }

    private static string OneLine(string output)
    {
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
        return Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    private static async Task<(int Code, string Output)> RunAsync(string program, params string[] arguments)
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
        using var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start " + program);
        process.StandardInput.Close();
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

    /// <summary>A sample's program in its own build output (samples/NAME/bin/CONFIG/TFM/NAME.dll).</summary>
    private static string ProgramPath(string program)
    {
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var root = here.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
        var name = Path.GetFileNameWithoutExtension(program);
        var path = Path.Combine(root, "samples", name, "bin", here.Parent.Name, here.Name, program);
        return File.Exists(path) ? path : throw new FileNotFoundException($"The sample {name} was not built.", path);
    }
}
