using System.CommandLine;
using ProcessDsl;
using ReplicationSample;

// demo: the replication scenario of the Python eventsourcing documentation. run: replicate any application's log (local store or
// HTTP) into a replica store, once or following.
var httpOption = new Option<bool>("--http") { Description = "Read the original over HTTP from a Kestrel server on 127.0.0.1" };
var demo = new Command("demo", "Create notes, replicate, create more, resume, restart the replicator, replicate again.") { httpOption };
demo.SetAction(async (parse, _) =>
{
    await Demo.RunAsync(parse.GetValue(httpOption), Console.Out);
    return 0;
});

var fromOption = new Option<string>("--from") { Description = "The original: a log server's base URL (http://127.0.0.1:5080/logs) or a store (sqlite:DIR)", Required = true };
var appOption = new Option<string>("--app") { Description = "The application to replicate, e.g. Orders", Required = true };
var replicaOption = new Option<string>("--replica") { Description = "The replica's store, e.g. sqlite:replica", Required = true };
var tokenOption = new Option<string?>("--token") { Description = "Bearer token for the log server" };
var followOption = new Option<bool>("--follow") { Description = "Keep following until Ctrl+C" };
var pollOption = new Option<int>("--poll-ms") { Description = "How often to look for new notifications when following", DefaultValueFactory = _ => 500 };
var run = new Command("run", "Copy an application's notifications into a replica store, resuming from the replica's newest id.")
{
    fromOption, appOption, replicaOption, tokenOption, followOption, pollOption,
};
run.SetAction(async (parse, cancellationToken) =>
{
    var from = parse.GetValue(fromOption)!;
    var app = parse.GetValue(appOption)!;
    using var replicaStore = StoreSpec.Open(parse.GetValue(replicaOption)!);
    var replica = new ReplicaOf(app).Open(replicaStore);
    Persistence? originalStore = null;
    RemoteNotificationLog? remote = null;
    INotificationLog original;
    if (from.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || from.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
    {
        remote = new RemoteNotificationLog(new Uri(from), app, new RemoteNotificationLogOptions { BearerToken = parse.GetValue(tokenOption) });
        original = remote;
    }
    else
    {
        originalStore = StoreSpec.Open(from);
        original = new ReplicaOf(app).Open(originalStore).NotificationLog;
    }
    try
    {
        var replicator = new Replicator(original, replica);
        Console.WriteLine($"replicating {app} from {from}, resuming after {replicator.Position}");
        var copied = await replicator.RunAsync(cancellationToken);
        Console.WriteLine($"copied {copied}; replica at {replica.NotificationLog.MaxNotificationId}");
        if (parse.GetValue(followOption))
            await replicator.FollowAsync(TimeSpan.FromMilliseconds(Math.Max(10, parse.GetValue(pollOption))),
                n => Console.WriteLine($"copied {n}; replica at {replica.NotificationLog.MaxNotificationId}"), cancellationToken);
        return 0;
    }
    finally
    {
        remote?.Dispose();
        originalStore?.Dispose();
    }
});

var root = new RootCommand("A replicator (as in the Python eventsourcing documentation): a replica follows an original's notification log and copies its records.") { demo, run };
return await root.Parse(args).InvokeAsync();
