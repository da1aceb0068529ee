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
