namespace ProcessDsl;

/// <summary>
/// When to try an operation again and how long to wait first: exponential backoff from
/// <see cref="InitialDelay"/>, doubled per attempt up to <see cref="MaxDelay"/>, with random
/// <see cref="Jitter"/> so that processes retrying together spread out; at most
/// <see cref="MaxAttempts"/> attempts; only faults <see cref="IsTransient"/> accepts are retried.
/// Used by the remote notification log, the multiprocess supervisor and the PostgreSQL prompt listener.
/// </summary>
/// <remarks>
/// <see cref="Delay"/> is cheap and synchronous (no allocation), for loops that keep their own
/// count of attempts; <see cref="ExecuteAsync{T}"/> runs the whole loop.
/// </remarks>
public sealed record RetryPolicy
{
    private readonly TimeSpan _initialDelay = TimeSpan.FromMilliseconds(100);
    private readonly TimeSpan _maxDelay = TimeSpan.FromSeconds(5);
    private readonly double _jitter = 0.2;
    private readonly int _maxAttempts;

    /// <summary>The delay before the second attempt (default 100 ms); each further attempt doubles it.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative.</exception>
    public TimeSpan InitialDelay
    {
        get => _initialDelay;
        init => _initialDelay = value >= TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(InitialDelay), value, "A retry delay cannot be negative.");
    }

    /// <summary>The longest delay between two attempts (default 5 s).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative.</exception>
    public TimeSpan MaxDelay
    {
        get => _maxDelay;
        init => _maxDelay = value >= TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(MaxDelay), value, "A retry delay cannot be negative.");
    }

    /// <summary>
    /// The fraction of each delay that is random (default 0.2: a delay of 1 s becomes one between
    /// 0.8 s and 1 s); 0 for exact delays.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Not between 0 and 1.</exception>
    public double Jitter
    {
        get => _jitter;
        init => _jitter = value is >= 0 and <= 1 ? value : throw new ArgumentOutOfRangeException(nameof(Jitter), value, "Jitter is a fraction between 0 and 1.");
    }

    /// <summary>How many attempts in all, the first included (default 0: no limit).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative.</exception>
    public int MaxAttempts
    {
        get => _maxAttempts;
        init => _maxAttempts = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(MaxAttempts), value, "The number of attempts cannot be negative (0 means no limit).");
    }

    /// <summary>Which faults are worth another attempt (default: every one); the others are thrown at once.</summary>
    public Func<Exception, bool> IsTransient { get; init; } = static _ => true;

    /// <summary>
    /// The wait after failed attempt number <paramref name="attempt"/> (1 for the first), before
    /// the next: <see cref="InitialDelay"/> doubled <c>attempt - 1</c> times, at most
    /// <see cref="MaxDelay"/>, less a random part of up to <see cref="Jitter"/> of it.
    /// </summary>
    public TimeSpan Delay(int attempt)
    {
        var doublings = Math.Clamp(attempt - 1, 0, 30);
        var ticks = Math.Min(_initialDelay.Ticks * (double)(1L << doublings), _maxDelay.Ticks);
        if (_jitter > 0) ticks -= ticks * _jitter * Random.Shared.NextDouble();
        return TimeSpan.FromTicks((long)ticks);
    }

    /// <summary>Whether failed attempt number <paramref name="attempt"/> (1 for the first) may be followed by another.</summary>
    public bool ShouldRetry(int attempt, Exception fault)
    {
        ArgumentNullException.ThrowIfNull(fault);
        return (_maxAttempts == 0 || attempt < _maxAttempts) && IsTransient(fault);
    }

    /// <summary>
    /// Runs <paramref name="operation"/> until it succeeds, waiting <see cref="Delay"/> between
    /// attempts; throws the fault of the last attempt when it is not transient or no attempt is left.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (during an attempt or a wait).</exception>
    public async Task<T> ExecuteAsync<T>(Func<CancellationToken, Task<T>> operation, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(operation);
        for (var attempt = 1; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                return await operation(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception fault) when (!cancellationToken.IsCancellationRequested && ShouldRetry(attempt, fault))
            {
            }
            await Task.Delay(Delay(attempt), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Runs <paramref name="operation"/> as <see cref="ExecuteAsync{T}"/> does, for operations without a result.</summary>
    public Task ExecuteAsync(Func<CancellationToken, Task> operation, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(operation);
        return ExecuteAsync<bool>(async token =>
        {
            await operation(token).ConfigureAwait(false);
            return true;
        }, cancellationToken);
    }
}
