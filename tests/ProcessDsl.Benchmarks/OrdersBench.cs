using OrdersSample;

namespace ProcessDsl.Benchmarks;

/// <summary>The orders job with the machine's durable commit rate measured in the same run.</summary>
internal static class OrdersBench
{
    public static async Task<int> RunAsync(string runner, int orders, int callers, string directory)
    {
        var commits = Baselines.DurableCommitsPerSecond(Path.Combine(directory, "baseline"), 3);
        Console.WriteLine(FormattableString.Invariant($"baseline durable_one_row_commits_per_s={commits:F0} (events/s if every order cost one such commit: {commits * OrdersJob.EventsPerOrder:F0})"));
        var code = await OrdersJob.RunAsync(new OrdersJobOptions(runner, orders, "sqlite:" + Path.Combine(directory, "orders"), callers, 500, Progress: false), CancellationToken.None);
        var after = Baselines.DurableCommitsPerSecond(Path.Combine(directory, "baseline-after"), 3);
        Console.WriteLine(FormattableString.Invariant($"baseline_after durable_one_row_commits_per_s={after:F0}"));
        return code;
    }
}
