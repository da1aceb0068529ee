using ProcessDsl;

namespace ReplicationSample;

/// <summary>
/// Copies an original application's notifications (from its local or remote log) into a replica,
/// verbatim and with the same ids. The replica's own newest notification id is the position, so a
/// new replicator resumes where the last one stopped. Replicators may run at the same time: when
/// one finds its copies already stored by another (a record conflict, expected and harmless), it
/// resumes after the replica's newest id; nothing is ever stored twice.
/// </summary>
public sealed class Replicator
{
    private readonly INotificationLog _original;
    private readonly Application _replica;
    private readonly NotificationLogReader _reader;

    /// <summary>Positions a reader of the original's log at the replica's newest notification id.</summary>
    public Replicator(INotificationLog original, Application replica)
    {
        ArgumentNullException.ThrowIfNull(original);
        ArgumentNullException.ThrowIfNull(replica);
        _original = original;
        _replica = replica;
        _reader = new NotificationLogReader(original).Seek(replica.NotificationLog.MaxNotificationId);
    }

    /// <summary>Most notifications copied in one transaction (default 500).</summary>
    public int BatchSize { get; init; } = 500;

    /// <summary>How many times a run may find its copies already stored before it gives up (default 10,000).</summary>
    public int MaxConflicts { get; init; } = 10_000;

    /// <summary>The last original notification id read.</summary>
    public long Position => _reader.Position;

    /// <summary>How many record conflicts with other replicators this replicator has met.</summary>
    public int Conflicts { get; private set; }

    /// <summary>Copies everything new in the original; returns how many notifications this call stored.</summary>
    public int Run() => RunAsync().GetAwaiter().GetResult();

    /// <summary>Copies everything new in the original; returns how many notifications this call stored.</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken = default)
    {
        var copied = 0;
        var conflicts = 0;
        var chunk = new List<Notification>(BatchSize);
        while (true)
        {
            chunk.Clear();
            try
            {
                await foreach (var notification in _reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    chunk.Add(notification);
                    if (chunk.Count < BatchSize) continue;
                    copied += Store(chunk);
                    chunk.Clear();
                }
                copied += Store(chunk);
                return copied;
            }
            catch (ConcurrencyException) when (conflicts < MaxConflicts)
            {
                // Another replicator stored these first: resume after what the replica now holds.
                conflicts++;
                Conflicts++;
                _reader.Seek(_replica.NotificationLog.MaxNotificationId);
            }
        }
    }

    /// <summary>Follows the original until cancelled, copying what is new every <paramref name="pollInterval"/>.</summary>
    public async Task FollowAsync(TimeSpan pollInterval, Action<int>? copiedSome = null, CancellationToken cancellationToken = default)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var copied = await RunAsync(cancellationToken).ConfigureAwait(false);
            if (copied > 0) copiedSome?.Invoke(copied);
            try
            {
                await Task.Delay(pollInterval, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private int Store(List<Notification> chunk)
    {
        if (chunk.Count == 0) return 0;
        _replica.AppendCopies(chunk);
        return chunk.Count;
    }

    /// <inheritdoc/>
    public override string ToString() => $"Replicator({_original.Application} -> {_replica.Name} at {Position})";
}
