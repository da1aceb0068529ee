using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace ProcessDsl;

/// <summary>
/// Receives cross-process prompts from a PostgreSQL store: every append that stores events sends
/// <c>NOTIFY channel, 'Application:lastNotificationId'</c> in its transaction (see
/// <see cref="PostgresOptions.Notify"/>), and this listener, on a dedicated connection that has run
/// <c>LISTEN channel</c>, passes each one on. It reconnects by itself with backoff.
/// </summary>
/// <remarks>
/// Prompts are hints. One is lost while the listener is disconnected, so after every (re)connect it
/// reports <c>(null, 0)</c>, meaning "look at everything"; followers must also poll at a bounded
/// interval. A follower skips a prompt <c>(application, n)</c> when its position in that
/// application's log is already at least <c>n</c>.
/// </remarks>
public sealed class PostgresPromptListener : IAsyncDisposable, IDisposable
{
    private readonly string _connectionString;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _loop;
    private int _connections;

    /// <summary>Creates a listener (not yet started) on <paramref name="connectionString"/>'s database.</summary>
    /// <param name="connectionString">An Npgsql connection string; the listener opens one unpooled connection of its own.</param>
    /// <param name="channel">The channel (a lower-case identifier), as in <see cref="PostgresOptions.NotifyChannel"/>.</param>
    /// <param name="logger">Where connection failures are logged.</param>
    public PostgresPromptListener(string connectionString, string channel = "processdsl", ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        Channel = Identifiers.ValidateSqlName(channel, "Notify channel");
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false };
        if (builder.KeepAlive == 0) builder.KeepAlive = 15; // notice a silently dead connection while waiting
        _connectionString = builder.ConnectionString;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The channel listened to.</summary>
    public string Channel { get; }

    /// <summary>The longest wait between reconnection attempts (the first is after about 50 ms, doubling, with jitter).</summary>
    public TimeSpan MaxReconnectDelay { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How many times the listener has connected and run <c>LISTEN</c> (1 after the first time).</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Completes when the listener first listens.</summary>
    public Task Listening => _listening.Task;

    /// <summary>The NOTIFY payload of a prompt: <c>"Application:notificationId"</c>.</summary>
    public static string Payload(string application, long notificationId) =>
        application + ":" + notificationId.ToString(CultureInfo.InvariantCulture);

    /// <summary>Parses a payload made by <see cref="Payload"/>.</summary>
    public static bool TryParse(string payload, out string application, out long notificationId)
    {
        ArgumentNullException.ThrowIfNull(payload);
        var colon = payload.LastIndexOf(':');
        application = colon > 0 ? payload[..colon] : "";
        notificationId = 0;
        return colon > 0 &&
               long.TryParse(payload.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out notificationId) &&
               notificationId > 0;
    }

    /// <summary>
    /// Starts listening on a background task. <paramref name="onPrompt"/> gets
    /// <c>(application, lastNotificationId)</c> for each prompt, and <c>(null, 0)</c> after each
    /// (re)connect; it runs on the listener's task, so it should only hand the prompt on (for
    /// example write to a channel). Its exceptions are logged and ignored.
    /// </summary>
    /// <exception cref="InvalidOperationException">Already started.</exception>
    public void Start(Action<string?, long> onPrompt)
    {
        ArgumentNullException.ThrowIfNull(onPrompt);
        ObjectDisposedException.ThrowIf(_stop.IsCancellationRequested, this);
        if (Interlocked.CompareExchange(ref _loop, Task.CompletedTask, null) is not null)
            throw new InvalidOperationException("The listener has already been started.");
        _loop = Task.Run(() => RunAsync(onPrompt, _stop.Token));
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested) return;
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is { } loop) await loop.ConfigureAwait(false);
        _stop.Dispose();
    }

    /// <inheritdoc/>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private async Task RunAsync(Action<string?, long> onPrompt, CancellationToken cancellationToken)
    {
        // Reconnects for ever (prompts are hints; followers poll meanwhile), with jitter so that
        // many listeners cut off by one server restart do not reconnect in step.
        var reconnect = new RetryPolicy { InitialDelay = TimeSpan.FromMilliseconds(50), MaxDelay = MaxReconnectDelay };
        var failures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var connection = new NpgsqlConnection(_connectionString);
                await using (connection.ConfigureAwait(false))
                {
                    connection.Notification += (_, e) =>
                    {
                        if (e.Channel == Channel && TryParse(e.Payload, out var application, out var id)) Deliver(onPrompt, application, id);
                    };
                    await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
                    var listen = new NpgsqlCommand($"LISTEN \"{Channel}\"", connection); // a validated identifier
                    await using (listen.ConfigureAwait(false))
                        await listen.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    failures = 0;
                    Interlocked.Increment(ref _connections);
                    _listening.TrySetResult();
                    Deliver(onPrompt, null, 0); // prompts may have been missed while not listening
                    while (true) await connection.WaitAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                failures++;
                var delay = reconnect.Delay(failures);
                _logger.LogWarning(ex, "Prompt listener on channel {Channel} lost its connection (attempt {Attempt}); reconnecting in {Delay}", Channel, failures, delay);
                try
                {
                    await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private void Deliver(Action<string?, long> onPrompt, string? application, long notificationId)
    {
        try
        {
            onPrompt(application, notificationId);
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "A prompt handler failed on {Application}:{Id}", application, notificationId);
        }
    }
}
