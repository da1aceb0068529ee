using System.Text.Json;
using ProcessDsl.Tests.Shared;
using ProcessDsl.Tests.Support;

namespace ProcessDsl.Tests;

/// <summary>
/// The orders sample published with Native AOT (no JIT, no reflection-based JSON, trimmed), run as a
/// user would run it: every order reserved and paid exactly once, in memory, on SQLite files, and
/// with its workers as processes of the same native program. The publish builds in a directory of
/// its own (<c>--artifacts-path</c>), apart from the tree the other tests run from.
/// </summary>
public sealed class NativeAotTests : IClassFixture<NativeAotTests.PublishedOrders>
{
    private readonly PublishedOrders _orders;

    public NativeAotTests(PublishedOrders orders) => _orders = orders;

    [Fact]
    public void The_published_program_is_native()
    {
        Assert.True(File.Exists(_orders.Program), $"No program at {_orders.Program}.");
        Assert.False(File.Exists(Path.Combine(_orders.Directory, "Orders.dll")), "A Native AOT publish has no Orders.dll beside its program.");
        Assert.False(File.Exists(Path.Combine(_orders.Directory, "linq2db.dll")), "A Native AOT publish has its dependencies compiled in.");
    }

    [Fact]
    public void In_memory_every_order_is_reserved_and_paid_once()
    {
        var last = _orders.Run("--runner", "single", "--store", "memory", "--orders", "300", "--no-progress");

        Assert.StartsWith("orders=300 paid=300 ", last, StringComparison.Ordinal);
    }

    [Fact]
    public void On_sqlite_files_every_order_is_reserved_and_paid_once_and_the_status_reads_back()
    {
        using var dir = new TempDirectory();

        var last = _orders.Run("--runner", "multi", "--store", "sqlite:" + dir.Path, "--orders", "300", "--no-progress");
        var status = _orders.Output("status", "--store", "sqlite:" + dir.Path, "--json");

        Assert.StartsWith("orders=300 paid=300 ", last, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(status);
        var newest = json.RootElement.EnumerateArray().ToDictionary(a => a.GetProperty("application").GetString()!, a => a.GetProperty("newestNotificationId").GetInt64());
        // Orders: created, reserved, paid; Reservations and Payments: one event per order.
        Assert.Equal(900, newest["Orders"]);
        Assert.Equal(300, newest["Reservations"]);
        Assert.Equal(300, newest["Payments"]);
    }

    [Fact]
    public void Its_workers_are_processes_of_the_same_native_program()
    {
        using var dir = new TempDirectory();

        var last = _orders.Run("--runner", "multiprocess", "--store", "sqlite:" + dir.Path, "--orders", "200", "--no-progress");

        Assert.StartsWith("orders=200 paid=200 ", last, StringComparison.Ordinal);
    }

    [Fact]
    public void A_postgres_store_is_refused_with_a_message_that_says_why()
    {
        // Refused before any connection: no server needed.
        var (code, output) = _orders.Try("--runner", "multi", "--store", "postgres:Host=127.0.0.1;Port=1;Username=nobody", "--orders", "1", "--no-progress");

        Assert.NotEqual(0, code);
        Assert.Contains("PostgreSQL stores do not run under Native AOT yet", output, StringComparison.Ordinal);
    }

    /// <summary>The sample, published once for the class.</summary>
    public sealed class PublishedOrders : IDisposable
    {
        private readonly TempDirectory _root = new();

        public PublishedOrders()
        {
            var repository = RepositoryRoot();
            Directory = Path.Combine(_root.Path, "out");
            List<string> arguments =
            [
                "publish", Path.Combine(repository, "samples", "Orders", "Orders.csproj"), "-c", "Release", "-r", NativeAotPublish.RuntimeIdentifier,
                "-p:PublishAot=true", "--artifacts-path", Path.Combine(_root.Path, "artifacts"), "-o", Directory, "-v", "quiet", "-nologo",
                .. NativeAotPublish.LinkerArguments,
            ];
            var (code, output) = Execute(WorkerProgram.Dotnet, arguments, TimeSpan.FromMinutes(20));
            if (code != 0) throw new InvalidOperationException($"dotnet publish -p:PublishAot=true exited {code}:\n{output}");
            Program = Path.Combine(Directory, NativeAotPublish.Program("Orders"));
        }

        public string Directory { get; }

        public string Program { get; }

        /// <summary>Runs the program, which must exit 0; returns the last line it printed.</summary>
        public string Run(params string[] arguments) =>
            Output(arguments).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[^1];

        /// <summary>Runs the program, which must exit 0; returns its standard output.</summary>
        public string Output(params string[] arguments)
        {
            var (code, output) = Execute(Program, arguments, TimeSpan.FromMinutes(3), errorsToo: false);
            Assert.True(code == 0, $"Orders {string.Join(' ', arguments)} exited {code}:\n{output}");
            return output;
        }

        /// <summary>Runs the program, whatever its exit code; returns the code and everything it printed.</summary>
        public (int Code, string Output) Try(params string[] arguments) => Execute(Program, arguments, TimeSpan.FromMinutes(3));

        public void Dispose() => _root.Dispose();

        private static (int Code, string Output) Execute(string program, IEnumerable<string> arguments, TimeSpan timeout, bool errorsToo = true)
        {
            var (code, output, errors) = NativeAotPublish.Run(program, arguments, workingDirectory: null, timeout);
            return (code, errorsToo || code != 0 ? output + errors : output);
        }

        private static string RepositoryRoot()
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "ProcessDsl.sln"))) return dir.FullName;
            }
            throw new DirectoryNotFoundException($"No ProcessDsl.sln above {AppContext.BaseDirectory}.");
        }
    }
}
