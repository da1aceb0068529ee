namespace ProcessDsl.Tests;

public sealed class RetryPolicyTests
{
    private static readonly RetryPolicy Exact = new() { InitialDelay = TimeSpan.FromMilliseconds(10), MaxDelay = TimeSpan.FromMilliseconds(100), Jitter = 0 };

    [Fact]
    public void Delays_double_per_attempt_up_to_the_maximum()
    {
        Assert.Equal(
            [10, 20, 40, 80, 100, 100],
            Enumerable.Range(1, 6).Select(a => Exact.Delay(a).TotalMilliseconds));
        Assert.Equal(TimeSpan.FromMilliseconds(100), Exact.Delay(int.MaxValue)); // no overflow
        Assert.Equal(TimeSpan.FromMilliseconds(10), Exact.Delay(0));
    }

    [Fact]
    public void Jitter_shortens_a_delay_by_at_most_its_fraction_and_varies()
    {
        var policy = Exact with { Jitter = 0.5 };
        var delays = Enumerable.Range(0, 200).Select(_ => policy.Delay(4)).ToList();
        Assert.All(delays, d => Assert.InRange(d, TimeSpan.FromMilliseconds(40), TimeSpan.FromMilliseconds(80)));
        Assert.True(delays.Distinct().Count() > 1, "jitter makes delays differ");
        Assert.All(Enumerable.Range(0, 50), _ => Assert.True(policy.Delay(30) <= policy.MaxDelay));
    }

    [Fact]
    public void Settings_out_of_range_are_refused_with_their_name()
    {
        Assert.Equal("Jitter", Assert.Throws<ArgumentOutOfRangeException>(() => new RetryPolicy { Jitter = 1.5 }).ParamName);
        Assert.Equal("InitialDelay", Assert.Throws<ArgumentOutOfRangeException>(() => new RetryPolicy { InitialDelay = TimeSpan.FromSeconds(-1) }).ParamName);
        Assert.Equal("MaxDelay", Assert.Throws<ArgumentOutOfRangeException>(() => new RetryPolicy { MaxDelay = TimeSpan.FromSeconds(-1) }).ParamName);
        Assert.Equal("MaxAttempts", Assert.Throws<ArgumentOutOfRangeException>(() => new RetryPolicy { MaxAttempts = -1 }).ParamName);
    }

    [Fact]
    public async Task Transient_faults_are_retried_until_the_operation_succeeds()
    {
        var calls = 0;
        var result = await (Exact with { InitialDelay = TimeSpan.Zero }).ExecuteAsync(_ =>
        {
            if (++calls < 4) throw new TimeoutException("not yet");
            return Task.FromResult(42);
        });
        Assert.Equal(42, result);
        Assert.Equal(4, calls);
    }

    [Fact]
    public async Task The_last_fault_is_thrown_when_no_attempt_is_left()
    {
        var calls = 0;
        var policy = Exact with { InitialDelay = TimeSpan.Zero, MaxAttempts = 3 };
        var ex = await Assert.ThrowsAsync<TimeoutException>(() => policy.ExecuteAsync(_ => throw new TimeoutException("attempt " + ++calls)));
        Assert.Equal("attempt 3", ex.Message);
        Assert.Equal(3, calls);
    }

    [Fact]
    public async Task A_fault_that_is_not_transient_is_thrown_at_once()
    {
        var calls = 0;
        var policy = Exact with { InitialDelay = TimeSpan.Zero, IsTransient = e => e is TimeoutException };
        await Assert.ThrowsAsync<InvalidOperationException>(() => policy.ExecuteAsync(_ =>
        {
            calls++;
            throw new InvalidOperationException("a bug");
        }));
        Assert.Equal(1, calls);
        Assert.False(policy.ShouldRetry(1, new InvalidOperationException()));
        Assert.True(policy.ShouldRetry(1000, new TimeoutException()));
        Assert.False((policy with { MaxAttempts = 2 }).ShouldRetry(2, new TimeoutException()));
    }

    [Fact]
    public async Task Cancellation_during_a_wait_stops_the_retries()
    {
        using var cancel = new CancellationTokenSource();
        var calls = 0;
        var policy = Exact with { InitialDelay = TimeSpan.FromHours(1), MaxDelay = TimeSpan.FromHours(1) };
        var running = policy.ExecuteAsync(_ =>
        {
            calls++;
            throw new TimeoutException();
        }, cancel.Token);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task A_cancelled_operation_is_not_retried()
    {
        using var cancel = new CancellationTokenSource();
        var calls = 0;
        var policy = Exact with { InitialDelay = TimeSpan.Zero };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => policy.ExecuteAsync(async token =>
        {
            calls++;
            await cancel.CancelAsync();
            token.ThrowIfCancellationRequested();
        }, cancel.Token));
        Assert.Equal(1, calls);
    }
}
