using System.CommandLine;
using EmailIndexSample;
using ProcessDsl;

// The index of verified email addresses from the Python eventsourcing documentation, on a chosen runner and store.
var runnerOption = new Option<string>("--runner") { Description = "single or multi", DefaultValueFactory = _ => "single" };
runnerOption.AcceptOnlyFromAmong("single", "multi");
var storeOption = new Option<string>("--store") { Description = "sqlite:DIR or memory", DefaultValueFactory = _ => "memory" };
var root = new RootCommand("Users add and verify email addresses; an index process application keeps one entry per verified address.")
{
    runnerOption, storeOption,
};
root.SetAction(async (parse, _) =>
{
    using var store = StoreSpec.Open(parse.GetValue(storeOption)!);
    await using Runner runner = parse.GetValue(runnerOption) == "multi"
        ? new MultiThreadedRunner(EmailIndexSystem.Definition, store, new RunnerOptions { PollInterval = TimeSpan.FromMilliseconds(100) })
        : new SingleThreadedRunner(EmailIndexSystem.Definition, store);
    await runner.StartAsync();
    await Scenario.RunAsync(runner, Console.Out);
    await runner.StopAsync();
    Console.WriteLine("all checks passed");
    return 0;
});
return await root.Parse(args).InvokeAsync();
