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
    /// Upstream logs to read from elsewhere (for example a <c>RemoteNotificationLog</c> over HTTP),
    /// by upstream application name; upstreams not named here are read from the runner's store.
    /// </summary>
    public IReadOnlyDictionary<string, INotificationLog> UpstreamLogs { get; init; } = new Dictionary<string, INotificationLog>();

    /// <summary>Where the runner logs; nothing is logged when null. Also used for applications without their own.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }
}
