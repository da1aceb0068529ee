using Microsoft.Extensions.Logging;

namespace ProcessDsl;

/// <summary>Settings shared by the runners.</summary>
public sealed record RunnerOptions
{
    /// <summary>Settings of every application (section size, cache, logging).</summary>
    public ApplicationOptions Application { get; init; } = new();

    /// <summary>How followers process (batch size, retries, backoff).</summary>
    public ProcessingOptions Processing { get; init; } = new();

    /// <summary>
    /// The longest a follower waits without a prompt before it looks at its upstream logs anyway
    /// (default 1 s): prompts are hints, so a lost one only delays an event by this much.
    /// </summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The shortest time between two passes of a live follower of the multi-threaded runner
    /// (default 5 ms). Events that arrive meanwhile are processed in one step and one durable
    /// commit, instead of one commit each: with a disk that makes a few thousand commits a second,
    /// this is what lets several followers keep up with a busy writer. Adds at most this much
    /// latency per hop; <see cref="TimeSpan.Zero"/> steps at once.
    /// </summary>
    public TimeSpan StepInterval { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>
    /// The largest share of a live follower's time that its durable commits may take under the
    /// multi-threaded and multiprocess runners (default 0.1, from above 0 to 1). After a pass whose
    /// longest durable commit took <c>d</c> (the <c>COMMIT</c> itself: the disk's flush, the server's
    /// round trip, not the writes before it, so the pause does not grow with the batch it causes), a
    /// worker starts its next pass no sooner than <c>d / CommitShare</c> after the last one began (and
    /// never sooner than <see cref="StepInterval"/>, nor later than ten step intervals, so a stalled
    /// commit cannot hold a hop for long; a zero step interval turns pacing off). On a fast disk this
    /// changes nothing (a 0.3 ms commit asks for 3 ms); when commits slow down because the disk is
    /// busy, followers commit less often and each commit carries more events, leaving the disk to the
    /// commands' saves. 1 turns the pacing off. Raises latency per hop by at most the wait it adds.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Not above 0 and at most 1.</exception>
    public double CommitShare
    {
        get => _commitShare;
        init => _commitShare = value is > 0 and <= 1
            ? value
            : throw new ArgumentOutOfRangeException(nameof(CommitShare), value, "CommitShare must be above 0 and at most 1.");
    }

    private readonly double _commitShare = DefaultCommitShare;

    /// <summary>The default <see cref="CommitShare"/>.</summary>
    internal const double DefaultCommitShare = 0.1;

    /// <summary>
    /// Upstream logs to read from elsewhere (for example a <c>RemoteNotificationLog</c> over HTTP),
    /// by upstream application name; upstreams not named here are read from the runner's store.
    /// </summary>
    public IReadOnlyDictionary<string, INotificationLog> UpstreamLogs { get; init; } = new Dictionary<string, INotificationLog>();

    /// <summary>
    /// The applications whose followers this runner processes; null (the default) for all. The
    /// others are still available for commands and queries. A worker process runs one.
    /// </summary>
    public IReadOnlyCollection<string>? Applications { get; init; }

    /// <summary>
    /// Whether to exchange prompts with other processes sharing the store (default true; used by
    /// the multi-threaded and multiprocess runners). Without them, followers in other processes see
    /// new events at their next poll.
    /// </summary>
    public bool CrossProcessPrompts { get; init; } = true;

    /// <summary>Where the runner logs; nothing is logged when null. Also used for applications without their own.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>
    /// Creates each application of the system; null (the default) uses the generated factory
    /// (<see cref="ApplicationDefinition.Factory"/>, a parameterless constructor). A host sets it to
    /// build applications through its container, so their constructors may take services.
    /// </summary>
    public Func<ApplicationDefinition, Application>? ApplicationFactory { get; init; }
}
