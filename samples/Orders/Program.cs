using System.CommandLine;
using OrdersSample;
using ProcessDsl;

// The events' generated JSON contracts, before any event is stored or read (workers too).
EventTopics.AddJsonTypeInfoResolver(OrdersJson.Default);

// Worker processes of the multiprocess runner (and workers started by hand) enter here.
if (WorkerHost.IsWorkerCommand(args)) return await WorkerHost.RunAsync(args, OrdersSystem.Definition);

var runnerOption = new Option<string>("--runner") { Description = "single, multi or multiprocess", DefaultValueFactory = _ => "multi" };
runnerOption.AcceptOnlyFromAmong("single", "multi", "multiprocess");
var ordersOption = new Option<int>("--orders") { Description = "How many orders to place", DefaultValueFactory = _ => 1000 };
var storeOption = new Option<string?>("--store") { Description = "sqlite:DIR (default: a new temporary folder), sqlite-normal:DIR, memory or postgres:CONNECTION-STRING" };
var callersOption = new Option<int>("--callers") { Description = "Concurrent clients placing orders", DefaultValueFactory = _ => 1 };
var batchOption = new Option<int>("--batch-size") { Description = "Most upstream events one processing step takes", DefaultValueFactory = _ => 1000 };
var noProgressOption = new Option<bool>("--no-progress") { Description = "Do not draw the progress bar" };
var warmupOption = new Option<int>("--warmup") { Description = "Orders placed and processed before the clock starts (checked like the others, not timed): the engine's start-up and JIT compiling stay outside the figure", DefaultValueFactory = _ => 0 };

var root = new RootCommand("The orders-reservations-payments system: places orders and checks each is reserved and paid exactly once.")
{
    runnerOption, ordersOption, storeOption, callersOption, batchOption, noProgressOption, warmupOption,
};
root.SetAction(async (parse, cancellationToken) =>
{
    var orders = parse.GetValue(ordersOption);
    var callers = parse.GetValue(callersOption);
    if (orders < 1 || callers < 1 || parse.GetValue(batchOption) < 1)
    {
        Console.Error.WriteLine("--orders, --callers and --batch-size must be at least 1.");
        return 2;
    }
    if (parse.GetValue(warmupOption) < 0)
    {
        Console.Error.WriteLine("--warmup must be 0 or more.");
        return 2;
    }
    var store = parse.GetValue(storeOption) ?? "sqlite:" + Path.Combine(Path.GetTempPath(), "processdsl-orders-" + DateTime.UtcNow.ToString("yyyyMMdd-HHmmss-fff"));
    return await OrdersJob.RunAsync(new OrdersJobOptions(parse.GetValue(runnerOption)!, orders, store, callers, parse.GetValue(batchOption), !parse.GetValue(noProgressOption))
        { Warmup = parse.GetValue(warmupOption) }, cancellationToken);
});
var statusStore = new Option<string>("--store") { Description = "sqlite:DIR or postgres:CONNECTION-STRING", Required = true };
var json = new Option<bool>("--json") { Description = "Print JSON instead of a table" };
var status = new Command("status", "Prints each application's newest notification id and each follower's position and lag.") { statusStore, json };
status.SetAction(parse =>
{
    // A status view only reads: it never creates a store where there is none.
    using var store = StoreArguments.OpenExisting(parse.GetValue(statusStore)!, OrdersSystem.Definition.Applications.Select(a => a.Name), out var code);
    if (store is null) return code;
    return StoreArguments.Guard(store, () =>
    {
        StatusView.Print(SystemStatus.Read(OrdersSystem.Definition, store), parse.GetValue(json));
        return 0;
    });
});
root.Subcommands.Add(status);

var retryStore = new Option<string>("--store") { Description = "sqlite:DIR or postgres:CONNECTION-STRING", Required = true };
var retryApp = new Option<string?>("--app") { Description = "Only this application's parked events" };
var retry = new Command("retry-parked", "Processes the parked events again, each exactly once (a policy that still fails leaves its event parked).") { retryStore, retryApp };
retry.SetAction(async (parse, cancellationToken) =>
{
    using var store = StoreArguments.OpenExisting(parse.GetValue(retryStore)!, OrdersSystem.Definition.Applications.Select(a => a.Name), out var code);
    if (store is null) return code;
    // A runner that processes nothing by itself: it only gives the retries their applications.
    await using var runner = new SingleThreadedRunner(OrdersSystem.Definition, store, new RunnerOptions { Applications = [] });
    await runner.StartAsync(cancellationToken);
    var failed = 0;
    foreach (var parked in runner.Parked().Where(p => parse.GetValue(retryApp) is not { } only || p.Application == only))
    {
        try
        {
            var done = await runner.RetryParkedAsync(parked, cancellationToken);
            Console.WriteLine($"{parked.Application} <- {parked.Upstream} #{parked.NotificationId} ({parked.Topic}): {(done ? "processed" : "no longer parked")}");
        }
        catch (ProcessingException ex)
        {
            failed++;
            Console.WriteLine($"{parked.Application} <- {parked.Upstream} #{parked.NotificationId} ({parked.Topic}): still failing: {ex.InnerException?.Message}");
        }
    }
    return failed == 0 ? 0 : 1;
});
root.Subcommands.Add(retry);
root.Subcommands.Add(new Command(WorkerHost.Command, $"Runs applications as a worker: worker --app NAME [--store SPEC] (handled before this parser; without --store the spec is read from {WorkerHost.StoreVariable}, the place for a password)."));
return await root.Parse(args).InvokeAsync();
