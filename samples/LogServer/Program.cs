using System.CommandLine;
using LogServerSample;
using Microsoft.Extensions.Hosting;
using ProcessDsl;

// serve: a store's notification logs over HTTP. bench: local reader vs HTTP reader on loopback.
var storeOption = new Option<string>("--store") { Description = "The store: sqlite:DIR, sqlite-normal:DIR or postgres:CONNECTION-STRING", Required = true };
var appsOption = new Option<string>("--apps") { Description = "Comma-separated application names whose logs to serve, e.g. Orders,Reservations", Required = true };
var urlsOption = new Option<string>("--urls") { Description = "Where to listen", DefaultValueFactory = _ => "http://127.0.0.1:5080" };
var tokenOption = new Option<string?>("--token") { Description = "Require 'Authorization: Bearer TOKEN' on every request" };
var baseOption = new Option<string>("--base") { Description = "The path prefix of the logs", DefaultValueFactory = _ => "/logs" };
var sectionOption = new Option<int>("--section-size") { Description = "Notifications per section served (each section costs a request, so larger sections read faster)", DefaultValueFactory = _ => 100 };
var verboseOption = new Option<bool>("--verbose") { Description = "Log every request" };

var serve = new Command("serve", "Serve the notification logs of a store's applications over HTTP (read-only).")
{
    storeOption, appsOption, urlsOption, tokenOption, baseOption, sectionOption, verboseOption,
};
serve.SetAction(async (parse, cancellationToken) =>
{
    var apps = parse.GetValue(appsOption)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    if (apps.Length == 0 || parse.GetValue(sectionOption) < 1)
    {
        Console.Error.WriteLine("--apps needs at least one name and --section-size must be at least 1.");
        return 2;
    }
    // A log server only reads: it never creates a store, or an application's tables, where there are none.
    using var persistence = StoreArguments.OpenExisting(parse.GetValue(storeOption)!, apps, out var code);
    if (persistence is null) return code;
    var options = new LogServerOptions(persistence, apps, parse.GetValue(urlsOption)!, parse.GetValue(baseOption)!, parse.GetValue(tokenOption), parse.GetValue(sectionOption));
    var (app, addresses) = await LogServerHost.StartAsync(options, parse.GetValue(verboseOption), cancellationToken);
    await using (app)
    {
        foreach (var address in addresses)
            foreach (var name in apps)
                Console.WriteLine($"serving {name}: {address}{name}/current");
        await app.WaitForShutdownAsync(cancellationToken);
    }
    return 0;
});

var eventsOption = new Option<int>("--events") { Description = "Notifications in the log", DefaultValueFactory = _ => 100_000 };
var sizesOption = new Option<string>("--section-sizes") { Description = "Comma-separated section sizes to measure", DefaultValueFactory = _ => "10,100" };
var roundsOption = new Option<int>("--rounds") { Description = "Measured rounds per reader (after a warm-up)", DefaultValueFactory = _ => 3 };
var benchStoreOption = new Option<string>("--store") { Description = "Where the log is kept (memory: a throwaway SQLite store)", DefaultValueFactory = _ => "memory" };
var bench = new Command("bench", "Read one log with the local reader and over HTTP on 127.0.0.1, and compare.")
{
    eventsOption, sizesOption, roundsOption, benchStoreOption,
};
bench.SetAction(async (parse, cancellationToken) =>
{
    var sizes = parse.GetValue(sizesOption)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Select(s => int.TryParse(s, out var n) ? n : 0).ToList();
    if (parse.GetValue(eventsOption) < 1 || parse.GetValue(roundsOption) < 1 || sizes.Count == 0 || sizes.Any(s => s < 1))
    {
        Console.Error.WriteLine("--events and --rounds must be at least 1, and --section-sizes positive numbers.");
        return 2;
    }
    await Bench.RunAsync(new BenchOptions(parse.GetValue(eventsOption), sizes, parse.GetValue(roundsOption), parse.GetValue(benchStoreOption)!), Console.Out, cancellationToken);
    return 0;
});

var root = new RootCommand("Serves ProcessDsl notification logs over HTTP, and benchmarks reading them.") { serve, bench };
return await root.Parse(args).InvokeAsync();
