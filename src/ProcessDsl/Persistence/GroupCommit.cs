namespace ProcessDsl;

/// <summary>
/// The commands' saves waiting for an application's writer. While one transaction is made durable,
/// the saves arriving meanwhile queue here and go into the next one together (or into the next
/// processing step's transaction), so many concurrent callers share one disk flush. Each save keeps
/// its own outcome.
/// </summary>
internal sealed class GroupCommit
{
    public const int MaxGroupedSaves = 256;

    private readonly System.Collections.Concurrent.ConcurrentQueue<QueuedSave> _queue = new();

    public bool IsEmpty => _queue.IsEmpty;

    public QueuedSave Enqueue(IReadOnlyList<NewEvent> events)
    {
        var save = new QueuedSave(events);
        _queue.Enqueue(save);
        return save;
    }

    /// <summary>Takes what is queued, up to <see cref="MaxGroupedSaves"/>.</summary>
    public List<QueuedSave> TakeQueued()
    {
        var group = new List<QueuedSave>();
        while (group.Count < MaxGroupedSaves && _queue.TryDequeue(out var queued))
            if (queued.Take()) group.Add(queued);
        return group;
    }

    /// <summary>Withdraws a save not yet taken into a transaction (its caller gave up); false once it was taken.</summary>
    public bool TryWithdraw(QueuedSave save) => save.Withdraw();

    /// <summary>The events of a group, in order, followed by <paramref name="more"/>.</summary>
    public static List<NewEvent> Events(IReadOnlyList<QueuedSave> group, IReadOnlyList<NewEvent>? more = null)
    {
        var all = new List<NewEvent>();
        foreach (var save in group) all.AddRange(save.Events);
        if (more is not null) all.AddRange(more);
        return all;
    }

    /// <summary>Hands each save of a group committed together its last notification id.</summary>
    /// <param name="group">The saves, whose events came first in the transaction.</param>
    /// <param name="lastOfGroup">The last notification id given to the group's events.</param>
    public static void Completed(IReadOnlyList<QueuedSave> group, long lastOfGroup)
    {
        var remaining = 0;
        foreach (var save in group) remaining += save.Events.Count;
        foreach (var save in group)
        {
            remaining -= save.Events.Count;
            save.Complete(lastOfGroup - remaining, null);
        }
    }
}

/// <summary>One command's save waiting in a <see cref="GroupCommit"/>.</summary>
internal sealed class QueuedSave(IReadOnlyList<NewEvent> events)
{
    private readonly ManualResetEventSlim _done = new(false, spinCount: 1);
    private readonly TaskCompletionSource _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _state; // 0 queued, 1 taken into a transaction, 2 withdrawn by its caller

    public IReadOnlyList<NewEvent> Events { get; } = events;

    public long Last { get; private set; }

    public Exception? Error { get; private set; }

    public bool Done => _done.IsSet;

    /// <summary>Publishes the outcome and wakes the caller.</summary>
    public void Complete(long last, Exception? error)
    {
        Last = last;
        Error = error;
        _done.Set();
        _completed.TrySetResult();
    }

    public void Wait(TimeSpan timeout) => _done.Wait(timeout);

    /// <summary>Waits, without blocking a thread, until the save has its outcome or the timeout passes.</summary>
    public async Task WaitAsync(TimeSpan timeout)
    {
        if (_completed.Task.IsCompleted) return;
        using var timer = new CancellationTokenSource(timeout);
        await _completed.Task.WaitAsync(timer.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    /// <summary>Marks the save taken by a transaction; false when its caller withdrew it first.</summary>
    internal bool Take() => Interlocked.CompareExchange(ref _state, 1, 0) == 0;

    /// <summary>Withdraws the save unless a transaction took it.</summary>
    internal bool Withdraw() => Interlocked.CompareExchange(ref _state, 2, 0) == 0;
}
