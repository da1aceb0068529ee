using System.Text.Json;

namespace ProcessDsl;

/// <summary>
/// What a supervised worker process is told by its parent, through its environment (never its
/// command line, which every local user can read with <c>ps</c>): the store to open and the runner
/// options that shape processing.
/// </summary>
internal sealed record WorkerSettings
{
    /// <summary>The environment variable holding the store spec (it may hold a password).</summary>
    public const string StoreVariable = "PROCESSDSL_WORKER_STORE";

    /// <summary>The environment variable holding these settings as JSON.</summary>
    public const string SettingsVariable = "PROCESSDSL_WORKER_SETTINGS";

    /// <summary>The line a worker writes on standard output once its followers run.</summary>
    public const string ReadyLine = "PROCESSDSL-READY";

    public ProcessingOptions Processing { get; init; } = new();

    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan StepInterval { get; init; } = TimeSpan.FromMilliseconds(5);

    public double CommitShare { get; init; } = RunnerOptions.DefaultCommitShare;

    public int SectionSize { get; init; } = NotificationLog.DefaultSectionSize;

    public int CacheCapacity { get; init; } = 10_000;

    public bool CrossProcessPrompts { get; init; } = true;

    /// <summary>Upstreams read over HTTP, by upstream application name.</summary>
    public Dictionary<string, RemoteUpstream> RemoteUpstreams { get; init; } = new(StringComparer.Ordinal);

    /// <summary>A <see cref="RemoteNotificationLog"/> as a worker recreates it.</summary>
    public sealed record RemoteUpstream(Uri BaseAddress, string Application, RemoteNotificationLogOptions Options);

    /// <summary>Describes the options for a worker; refuses upstream logs another process cannot open.</summary>
    /// <exception cref="ArgumentException">An upstream log is neither a <see cref="RemoteNotificationLog"/> nor the store's own.</exception>
    public static WorkerSettings From(RunnerOptions options)
    {
        var remote = new Dictionary<string, RemoteUpstream>(StringComparer.Ordinal);
        foreach (var (upstream, log) in options.UpstreamLogs)
        {
            remote[upstream] = log is RemoteNotificationLog http
                ? new RemoteUpstream(http.BaseAddress, http.Application, http.Options)
                : throw new ArgumentException(
                    $"The upstream log of '{upstream}' is a {log.GetType().Name}, which a worker process cannot open: the multiprocess runner passes on only RemoteNotificationLog upstreams (by address and options).",
                    nameof(options));
        }
        return new WorkerSettings
        {
            Processing = options.Processing,
            PollInterval = options.PollInterval,
            StepInterval = options.StepInterval,
            CommitShare = options.CommitShare,
            SectionSize = options.Application.SectionSize,
            CacheCapacity = options.Application.CacheCapacity,
            CrossProcessPrompts = options.CrossProcessPrompts,
            RemoteUpstreams = remote,
        };
    }

    public string ToJson() => JsonSerializer.Serialize(this, WorkerJson.Default.WorkerSettings);

    /// <exception cref="FormatException">Not settings this version wrote.</exception>
    public static WorkerSettings FromJson(string json)
    {
        try
        {
            return JsonSerializer.Deserialize(json, WorkerJson.Default.WorkerSettings) ?? throw new FormatException($"{SettingsVariable} holds no settings.");
        }
        catch (JsonException ex)
        {
            throw new FormatException($"{SettingsVariable} does not hold worker settings: {ex.Message}", ex);
        }
    }

    /// <summary>The runner options of the worker; the remote logs it opens are added to <paramref name="opened"/> for disposal.</summary>
    public RunnerOptions ToRunnerOptions(IReadOnlyCollection<string> applications, List<IDisposable> opened, Microsoft.Extensions.Logging.ILoggerFactory? loggerFactory)
    {
        var upstreams = new Dictionary<string, INotificationLog>(StringComparer.Ordinal);
        foreach (var (name, remote) in RemoteUpstreams)
        {
            var log = new RemoteNotificationLog(remote.BaseAddress, remote.Application, remote.Options);
            opened.Add(log);
            upstreams[name] = log;
        }
        return new RunnerOptions
        {
            Applications = applications,
            Processing = Processing,
            PollInterval = PollInterval,
            StepInterval = StepInterval,
            CommitShare = CommitShare,
            Application = new ApplicationOptions { SectionSize = SectionSize, CacheCapacity = CacheCapacity },
            CrossProcessPrompts = CrossProcessPrompts,
            UpstreamLogs = upstreams,
            LoggerFactory = loggerFactory,
        };
    }
}
