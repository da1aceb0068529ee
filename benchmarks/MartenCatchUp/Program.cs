// MartenCatchUp: how fast Marten's async daemon catches up on a backlog of events.
//
// 1. Appends N events (default 100,000), each in a new stream of its own (a new Guid per event),
//    1,000 events per session and SaveChangesAsync, while no daemon runs: "append_seconds".
// 2. Builds the async daemon with one async projection, a FlatTableProjection that writes one row
//    per event into a plain table (item_id uuid primary key = the stream id, number int), then
//    starts the clock and the daemon, and polls the projection's progression every 20 ms until it
//    reaches the highest event sequence: "catchup_seconds". The clock covers StartAllAsync (agent
//    start-up, high-water detection) and all the projection work; it leaves out building the
//    store, schema creation and building the daemon object.
// 3. Checks that the table has exactly N rows (exit code 1 otherwise) and prints one line of JSON
//    on stdout. Everything else goes to stderr; Marten's daemon logs at Warning and above only.
//
//   dotnet run -c Release -- --connection "Host=...;Database=..." [--events N] [--fresh] [--analyze]
//
// --fresh drops the schema marten_catchup first (a run refuses to start on a schema that holds
// events). --analyze (off by default) runs ANALYZE on mt_events and mt_streams before the clock.
// Marten is left at its defaults (append mode, daemon batch size, ...): nothing is tuned.

using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using JasperFx.Events.Daemon;
using JasperFx.Events.Projections;
using Marten;
using Marten.Events.Projections.Flattened;
using Microsoft.Extensions.Logging;
using Npgsql;

const string Schema = "marten_catchup";
const int EventsPerSave = 1_000;

// Marten writes some notices straight to Console.Out: keep stdout for the one JSON line.
var stdout = Console.Out;
Console.SetOut(Console.Error);

string? connection = null;
var events = 100_000;
var fresh = false;
var analyze = false;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--connection" when i + 1 < args.Length: connection = args[++i]; break;
        case "--events" when i + 1 < args.Length && int.TryParse(args[i + 1], out var n) && n > 0: events = n; i++; break;
        case "--fresh": fresh = true; break;
        case "--analyze": analyze = true; break;
        default: return Fail($"unknown or incomplete option '{args[i]}'. Usage: --connection <npgsql connection string> [--events N] [--fresh] [--analyze]", 2);
    }
}
if (connection is null)
{
    return Fail("--connection <npgsql connection string> is required", 2);
}

if (fresh)
{
    await using var conn = new NpgsqlConnection(connection);
    await conn.OpenAsync();
    await using var drop = new NpgsqlCommand($"DROP SCHEMA IF EXISTS {Schema} CASCADE", conn);
    await drop.ExecuteNonQueryAsync();
    Console.Error.WriteLine($"dropped schema {Schema}");
}

using var loggerFactory = LoggerFactory.Create(b => b
    .SetMinimumLevel(LogLevel.Warning)
    .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));

await using var store = DocumentStore.For(opts =>
{
    opts.Connection(connection);
    opts.DatabaseSchemaName = Schema;
    opts.Projections.Add(new ItemProjection(), ProjectionLifecycle.Async);
    // This process runs the daemon itself (built below). Solo is what AddAsyncDaemon(DaemonMode.Solo)
    // would set; without a host it starts nothing by itself, and it stops the "async daemon is
    // disabled" warning that Marten prints on stdout.
    opts.Projections.AsyncMode = DaemonMode.Solo;
});
await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
var projectionOptions = store.Options.Projections.All.OfType<ItemProjection>().Single().Options;
Console.Error.WriteLine($"Marten defaults in use: append mode {store.Options.Events.AppendMode}, "
    + $"daemon batch size {projectionOptions.BatchSize}, MaximumHopperSize {projectionOptions.MaximumHopperSize}");

if (await ScalarAsync($"SELECT count(*) FROM {Schema}.mt_events") != 0)
{
    return Fail($"schema {Schema} already holds events; run with --fresh", 1);
}

// Append, no daemon running.
var clock = Stopwatch.StartNew();
for (var start = 0; start < events; start += EventsPerSave)
{
    await using var session = store.LightweightSession();
    for (var number = start; number < Math.Min(start + EventsPerSave, events); number++)
    {
        session.Events.StartStream(Guid.NewGuid(), new ItemCreated(number));
    }
    await session.SaveChangesAsync();
}
var appendSeconds = clock.Elapsed.TotalSeconds;
var highest = await ScalarAsync($"SELECT coalesce(max(seq_id), 0) FROM {Schema}.mt_events");
Console.Error.WriteLine($"appended {events} events in {appendSeconds:F2} s, highest sequence {highest}");

// Off by default. Right after the append, PostgreSQL has no statistics on the new rows until
// autovacuum's ANALYZE runs (it checks once a minute), and until then the daemon's fetch query
// (mt_events joined to mt_streams) can get a slow plan. --analyze runs ANALYZE before the clock.
if (analyze)
{
    await ScalarAsync($"ANALYZE {Schema}.mt_events, {Schema}.mt_streams");
    Console.Error.WriteLine("analyzed mt_events and mt_streams");
}

// Catch up: the daemon is built (storage checked) before the clock starts.
using var daemon = await store.BuildProjectionDaemonAsync(logger: loggerFactory.CreateLogger("Marten.Daemon"));
var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
clock.Restart();
await daemon.StartAllAsync();
var deadline = TimeSpan.FromMinutes(30);
var nextReport = TimeSpan.FromSeconds(1);
while (true)
{
    var progress = await store.Advanced.AllProjectionProgress();
    var sequence = progress.Where(s => s.ShardName.StartsWith(ItemProjection.ProjectionName + ":", StringComparison.Ordinal))
        .Select(s => s.Sequence).DefaultIfEmpty(0).Max();
    if (sequence >= highest)
    {
        break;
    }
    if (clock.Elapsed >= nextReport)
    {
        Console.Error.WriteLine($"  {clock.Elapsed.TotalSeconds,6:F1} s: progression {sequence} of {highest}");
        nextReport += TimeSpan.FromSeconds(1);
    }
    if (clock.Elapsed > deadline)
    {
        return Fail($"catch-up did not finish in {deadline}: progression {sequence} of {highest}", 1);
    }
    await Task.Delay(20);
}
var catchupSeconds = clock.Elapsed.TotalSeconds;
await daemon.StopAllAsync();
Console.Error.WriteLine($"caught up in {catchupSeconds:F2} s, using {(Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds:F2} s of CPU in this process");

// Verify the read model.
var rows = await ScalarAsync($"SELECT count(*) FROM {Schema}.{ItemProjection.TableName}");
if (rows != events)
{
    return Fail($"read model has {rows} rows, expected {events}", 1);
}

var martenVersion = typeof(DocumentStore).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
    ?? typeof(DocumentStore).Assembly.GetName().Version?.ToString() ?? "unknown";
stdout.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
{
    ["events"] = events,
    ["append_seconds"] = Math.Round(appendSeconds, 3),
    ["catchup_seconds"] = Math.Round(catchupSeconds, 3),
    ["append_events_per_second"] = Math.Round(events / appendSeconds, 1),
    ["catchup_events_per_second"] = Math.Round(events / catchupSeconds, 1),
    ["marten_version"] = martenVersion,
}));
return 0;

async Task<long> ScalarAsync(string sql)
{
    await using var conn = new NpgsqlConnection(connection);
    await conn.OpenAsync();
    await using var command = new NpgsqlCommand(sql, conn);
    return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
}

static int Fail(string message, int code)
{
    Console.Error.WriteLine($"MartenCatchUp: {message}");
    return code;
}

public sealed record ItemCreated(int Number);

/// <summary>One row per event: item_id (the stream id) -> number.</summary>
public sealed class ItemProjection : FlatTableProjection
{
    public const string ProjectionName = "Items";
    public const string TableName = "items";

    public ItemProjection() : base(TableName, SchemaNameSource.DocumentSchema)
    {
        Name = ProjectionName;
        Table.AddColumn<Guid>("item_id").AsPrimaryKey();
        Project<ItemCreated>(map => map.Map(x => x.Number, "number"));
    }
}
