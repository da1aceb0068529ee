using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace ProcessDsl;

/// <summary>
/// One long-running worker per following application, woken by prompts over bounded channels.
/// Prompts coalesce (a burst of saves leaves at most one wake-up waiting), and each worker also
/// looks at its upstreams every <see cref="RunnerOptions.PollInterval"/>, so a lost prompt or a
/// restart never strands an event.
/// </summary>
public sealed class MultiThreadedRunner : Runner
{
    private readonly Dictionary<string, Channel<bool>> _prompts = new(StringComparer.Ordinal);
    private readonly List<Task> _workers = [];
    private readonly CancellationTokenSource _stopping = new();
    private int _busy;

    /// <summary>Creates the runner; call <see cref="Runner.StartAsync"/> next.</summary>
    public MultiThreadedRunner(SystemDefinition system, Persistence persistence, RunnerOptions? options = null)
        : base(system, persistence, options)
    {
    }

    private protected override bool UsesCrossProcessPrompts => true;

    private protected override bool ReadsAhead => true;

    /// <summary>
    /// A step with nothing for its policies commits nothing: the follower's next commit writes its
    /// position, or its worker does once no prompt has come for <see cref="PositionWriteDelay"/>
    /// (and when it stops), so an idle system's tracking records are where processing left them.
    /// </summary>
    private protected override bool DefersTrackingOnlySteps => true;

    /// <summary>How long a worker waits for more work before writing positions its steps moved past events nobody handles.</summary>
    private static readonly TimeSpan PositionWriteDelay = TimeSpan.FromMilliseconds(50);

    private protected override bool IsQuiet => Volatile.Read(ref _busy) == 0 && _prompts.Values.All(c => c.Reader.Count == 0);

    private protected override Task OnStartAsync(CancellationToken cancellationToken)
    {
        foreach (var definition in Definition.Applications)
        {
            if (FollowersOf(definition.Name).Count == 0) continue;
            var channel = Channel.CreateBounded<bool>(new BoundedChannelOptions(1)
            {
                FullMode = BoundedChannelFullMode.DropWrite,
                SingleReader = true,
                // The prompting thread wakes the waiting worker itself. Otherwise the channel hands
                // the wake-up to the thread pool: one pool wake-up per prompt, and no prompt at all
                // while the host's pool is starved.
                AllowSynchronousContinuations = true,
            });
            _prompts[definition.Name] = channel;
        }
        if (Prompts is not null)
        {
            foreach (var (name, channel) in _prompts)
            {
                var followers = FollowersOf(name);
                Prompts.Listen(name, followers.Select(f => f.Upstream).ToArray(), (upstream, id) =>
                {
                    // Skip prompts this application has already passed.
                    foreach (var follower in followers)
                        if (follower.Upstream == upstream && (id == 0 || (follower.KnownPosition ?? 0) < id))
                            channel.Writer.TryWrite(true);
                });
            }
        }
        foreach (var (name, channel) in _prompts)
        {
            channel.Writer.TryWrite(true); // catch up on start
            // A thread of its own: the worker's steps block on the database (or the disk), which on
            // the thread pool would hold pool threads and starve the work that wakes them.
            _workers.Add(Task.Factory.StartNew(() => Work(name, channel.Reader, _stopping.Token),
                CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default));
        }
        return Task.CompletedTask;
    }

    private protected override async Task OnStopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_workers).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Workers end by cancellation.
        }
        _stopping.Dispose();
    }

    private protected override void OnSaved(Application application, long lastNotificationId)
    {
        foreach (var follower in Definition.FollowersOf(application.Name))
            if (_prompts.TryGetValue(follower.Name, out var channel)) channel.Writer.TryWrite(true);
    }

    /// <summary>
    /// A worker's loop, run to its end on the worker's own thread: waits for prompts, runs its
    /// followers' steps, paces its passes. Every wait blocks this thread, none a pool thread.
    /// </summary>
    private void Work(string application, ChannelReader<bool> channel, CancellationToken cancellationToken)
    {
        // A thread of its own (see OnStartAsync), named for debuggers, dumps and profilers.
        Thread.CurrentThread.Name = application + " worker";
        var followers = FollowersOf(application);
        var prompts = new PromptWaiter(channel);
        try
        {
            var lastPass = long.MinValue;
            var interval = Options.StepInterval;
            while (!cancellationToken.IsCancellationRequested)
            {
                if (followers.Any(f => f.HasDeferredPosition) && !prompts.Wait(PositionWriteDelay, cancellationToken))
                {
                    WritePositions(followers);
                    continue;
                }
                prompts.Wait(Options.PollInterval, cancellationToken);
                // Events arriving in quick succession share one step (and one durable commit) when
                // the worker waits out the rest of its pass interval since its last pass.
                var wait = interval - global::System.Diagnostics.Stopwatch.GetElapsedTime(lastPass);
                if (lastPass != long.MinValue && wait > TimeSpan.Zero)
                {
                    cancellationToken.WaitHandle.WaitOne(wait);
                    cancellationToken.ThrowIfCancellationRequested();
                }
                lastPass = global::System.Diagnostics.Stopwatch.GetTimestamp();
                while (channel.TryRead(out _))
                {
                    // Coalesce: one pass serves every prompt that arrived before it.
                }
                Interlocked.Increment(ref _busy);
                try
                {
                    foreach (var follower in followers)
                        follower.CatchUp(cancellationToken);
                }
                finally
                {
                    Interlocked.Decrement(ref _busy);
                }
                interval = PassInterval(Options, followers);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            WritePositions(followers);
        }
        catch (Exception ex)
        {
            Fail(ex);
            Logger.LogError("Worker of {Application} stopped", application);
        }
    }

    /// <summary>
    /// The shortest time from the start of a worker's pass to the start of its next one: the step
    /// interval, or longer (up to <see cref="MostStepIntervals"/> step intervals) when the pass's
    /// longest durable commit took more than <see cref="RunnerOptions.CommitShare"/> of it. A disk (or
    /// server) slowed by many commits makes the followers commit less often, each commit carrying more
    /// events, which leaves it free for the commands' own saves.
    /// </summary>
    internal static TimeSpan PassInterval(RunnerOptions options, IReadOnlyList<Follower> followers)
    {
        var longest = TimeSpan.Zero;
        foreach (var follower in followers)
        {
            var commit = follower.TakeLongestCommit();
            if (commit > longest) longest = commit;
        }
        return PassInterval(options.StepInterval, options.CommitShare, longest);
    }

    /// <summary>How many step intervals pacing may stretch a pass interval to, at most (so one stalled commit cannot hold a hop for long).</summary>
    internal const int MostStepIntervals = 10;

    /// <summary>The pass interval after a pass whose longest commit took <paramref name="longestCommit"/>.</summary>
    internal static TimeSpan PassInterval(TimeSpan stepInterval, double commitShare, TimeSpan longestCommit)
    {
        var paced = longestCommit / commitShare;
        var most = stepInterval * MostStepIntervals;
        return paced <= stepInterval ? stepInterval : paced < most ? paced : most;
    }

    /// <summary>
    /// A worker's wait for a prompt on its channel, blocking the worker's thread. The timeout is the
    /// blocked thread's own: a wait that times out stays registered with the channel and is waited on
    /// again the next time, so no timer is armed (a timer fires on the thread pool, and in a host whose
    /// pool is starved the worker would never poll).
    /// </summary>
    private sealed class PromptWaiter(ChannelReader<bool> prompts)
    {
        private Task<bool>? _pending;

        /// <summary>Blocks until a prompt is waiting or <paramref name="timeout"/> passes; false when none came.</summary>
        /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
        public bool Wait(TimeSpan timeout, CancellationToken cancellationToken)
        {
            if (prompts.Count > 0) return true;
            if (_pending is { IsCompleted: true }) _pending = null; // its prompt was taken by a pass since
            var pending = _pending ??= prompts.WaitToReadAsync(cancellationToken).AsTask();
            try
            {
                if (!pending.Wait((int)Math.Min(timeout.TotalMilliseconds, int.MaxValue), cancellationToken)) return false;
            }
            catch (AggregateException) when (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException(cancellationToken); // the channel's wait was cancelled first
            }
            _pending = null;
            return pending.GetAwaiter().GetResult();
        }
    }
}
