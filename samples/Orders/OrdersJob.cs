using System.Diagnostics;
using ProcessDsl;
using Spectre.Console;

namespace OrdersSample;

/// <summary>What the orders job is asked to do.</summary>
internal sealed record OrdersJobOptions(string Runner, int Orders, string Store, int Callers, int BatchSize, bool Progress)
{
    /// <summary>Orders placed and processed before the clock starts (verified with the others, not timed).</summary>
    public int Warmup { get; init; }
}

/// <summary>
/// The main job: callers place orders concurrently, the system reserves and pays each, and the job
/// checks that every order was reserved and paid exactly once.
/// </summary>
internal static class OrdersJob
{
    /// <summary>Stored events per order: Order.Created, Reservation.Created, Order.Reserved, Payment.Created, Order.Paid.</summary>
    public const int EventsPerOrder = 5;

    /// <summary>Runs the job; a bad or unreachable store is one line on standard error and its exit code (see <see cref="StoreArguments"/>).</summary>
    public static async Task<int> RunAsync(OrdersJobOptions options, CancellationToken cancellationToken)
    {
        using var store = StoreArguments.Open(options.Store);
        if (store is null) return StoreArguments.BadArguments;
        Console.Error.WriteLine($"store: {store.Description}");
        return await StoreArguments.GuardAsync(store, () => RunAsync(options, store, cancellationToken));
    }

    private static async Task<int> RunAsync(OrdersJobOptions options, Persistence store, CancellationToken cancellationToken)
    {
        var runnerOptions = new RunnerOptions { Processing = new ProcessingOptions { MaxBatchSize = options.BatchSize } };
        await using Runner runner = options.Runner switch
        {
            "single" => new SingleThreadedRunner(OrdersSystem.Definition, store, runnerOptions),
            "multi" => new MultiThreadedRunner(OrdersSystem.Definition, store, runnerOptions),
            "multiprocess" => new MultiprocessRunner(OrdersSystem.Definition, store, new MultiprocessOptions { Runner = runnerOptions with { PollInterval = TimeSpan.FromMilliseconds(500) } }),
            _ => throw new ArgumentException($"Unknown runner '{options.Runner}': use single, multi or multiprocess."),
        };
        await runner.StartAsync(cancellationToken);
        // Workers are processes that start their runtime and open the store after StartAsync returns:
        // the clock below starts once they run, as it does once the other runners' followers run.
        if (runner is MultiprocessRunner workers)
        {
            var starting = Stopwatch.StartNew();
            await workers.WaitUntilWorkersStartedAsync(TimeSpan.FromMinutes(2), cancellationToken);
            Console.WriteLine(FormattableString.Invariant($"workers_started_after_s={starting.Elapsed.TotalSeconds:F3}"));
        }
        var orders = runner.Get<Orders>();
        var payments = runner.Get<Payments>();

        // Each caller is a thread of its own: commands block while their commit is made durable,
        // and blocking pool threads would starve the followers' workers.
        Task Place(Guid[] ids) => Task.Run(async () =>
        {
            var callers = Enumerable.Range(0, options.Callers).Select(caller => Task.Factory.StartNew(() =>
            {
                for (var i = caller; i < ids.Length && !cancellationToken.IsCancellationRequested; i += options.Callers)
                    ids[i] = orders.CreateNewOrder();
            }, cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();
            await Task.WhenAll(callers);
            await runner.WaitUntilIdleAsync(TimeSpan.FromMinutes(30), cancellationToken);
        }, cancellationToken);

        var warmup = new Guid[options.Warmup];
        if (warmup.Length > 0)
        {
            var warming = Stopwatch.StartNew();
            await Place(warmup);
            Console.WriteLine(FormattableString.Invariant($"warmup_orders={warmup.Length} warmup_seconds={warming.Elapsed.TotalSeconds:F3}"));
        }
        var before = payments.NotificationLog.MaxNotificationId;
        var ids = new Guid[options.Orders];
        // This process's managed allocations over the measured orders: a figure the machine's noise does
        // not move (with the multiprocess runner, the workers' allocations are not in it).
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        using var writers = new WriterMeter();
        var cpu = new CpuMeter();
        var clock = Stopwatch.StartNew();
        var work = Place(ids);

        if (options.Progress && AnsiConsole.Profile.Capabilities.Interactive)
        {
            await AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .StartAsync(async context =>
                {
                    var bar = context.AddTask($"[green]{options.Orders} orders paid[/]", maxValue: options.Orders);
                    while (!work.IsCompleted)
                    {
                        bar.Value = payments.NotificationLog.MaxNotificationId - before;
                        await Task.WhenAny(work, Task.Delay(100, cancellationToken));
                    }
                    bar.Value = options.Orders;
                });
        }
        await work;
        clock.Stop();
        var cpuSummary = cpu.Summary(options.Orders);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        var writersSummary = writers.Summary(clock.Elapsed.TotalSeconds);
        writers.Dispose();

        var good = Verify(runner, ids, warmup);
        var (paid, warmedUp) = (good[0], good[1]);
        await runner.StopAsync(cancellationToken);
        var seconds = clock.Elapsed.TotalSeconds;
        var ok = paid == options.Orders && warmedUp == warmup.Length;
        if (warmedUp != warmup.Length) Console.Error.WriteLine($"FAILED: {warmup.Length - warmedUp} of {warmup.Length} warm-up orders were not reserved and paid exactly once.");
        if (paid != options.Orders) Console.Error.WriteLine($"FAILED: {options.Orders - paid} of {options.Orders} orders were not reserved and paid exactly once.");
        Console.WriteLine(writersSummary);
        Console.WriteLine(cpuSummary);
        Console.WriteLine(FormattableString.Invariant(
            $"orders={options.Orders} paid={paid} seconds={seconds:F3} orders_per_s={options.Orders / seconds:F0} events_per_s={options.Orders * EventsPerOrder / seconds:F0} allocated_kb_per_order={allocated / 1024.0 / Math.Max(1, options.Orders):F1}"));
        return ok ? 0 : 1;
    }

    /// <summary>
    /// Counts, per group of orders, those reserved and paid exactly once, with their summary rows;
    /// reports anything else. The logs are read once for all groups.
    /// </summary>
    internal static int[] Verify(Runner runner, params IReadOnlyList<Guid>[] groups)
    {
        var reservations = CountByOrder(runner.Get<Reservations>().NotificationLog, n => ((Reservation.Created)EventTopics.Deserialize(n)).OrderId);
        var paymentsByOrder = CountByOrder(runner.Get<Payments>().NotificationLog, n => ((Payment.Created)EventTopics.Deserialize(n)).OrderId);
        var ordersLog = ReadContiguous(runner.Get<Orders>().NotificationLog);
        var eventsByOrder = ordersLog.GroupBy(n => n.OriginatorId).ToDictionary(g => g.Key, g => g.Count());
        var paidRows = runner.Get<Summaries>().Query<OrderSummary>().Where(s => s.Status == "paid").Select(s => s.OrderId).ToHashSet();

        return [.. groups.Select(ids =>
        {
            var wanted = ids.ToHashSet();
            var good = 0;
            foreach (var id in wanted)
            {
                var once = reservations.GetValueOrDefault(id) == 1 && paymentsByOrder.GetValueOrDefault(id) == 1
                    && eventsByOrder.GetValueOrDefault(id) == 3 && paidRows.Contains(id);
                if (once) good++;
                else if (wanted.Count - good < 10)
                    Console.Error.WriteLine($"order {id}: reservations={reservations.GetValueOrDefault(id)} payments={paymentsByOrder.GetValueOrDefault(id)} order_events={eventsByOrder.GetValueOrDefault(id)} summary_paid={paidRows.Contains(id)}");
            }
            return good;
        })];
    }

    private static Dictionary<Guid, int> CountByOrder(INotificationLog log, Func<Notification, Guid> orderOf)
    {
        var counts = new Dictionary<Guid, int>();
        foreach (var n in ReadContiguous(log))
        {
            var order = orderOf(n);
            counts[order] = counts.GetValueOrDefault(order) + 1;
        }
        return counts;
    }

    private static IReadOnlyList<Notification> ReadContiguous(INotificationLog log)
    {
        var all = new List<Notification>();
        long position = 0;
        while (true)
        {
            var batch = log.Select(position, 10_000);
            if (batch.Position == position) break;
            foreach (var n in batch.Items)
            {
                if (n.Id != position + 1) throw new InvalidOperationException($"The {log.Application} log is not contiguous: {n.Id} follows {position}.");
                position = n.Id;
                all.Add(n);
            }
            if (position != batch.Position) throw new InvalidOperationException($"The {log.Application} log has a gap before {batch.Position}.");
        }
        return all;
    }
}
