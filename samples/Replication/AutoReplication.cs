using ProcessDsl;

namespace ReplicationSample;

/// <summary>
/// Event-driven pulling, as in the Python eventsourcing documentation's replicator: after every save of a note in this process, the current
/// replicator runs (synchronously, best effort). Prompts are only hints: a replicator that misses
/// one catches up on its next run, because it resumes from the replica's newest id.
/// </summary>
public static partial class AutoReplication
{
    private static readonly Lock s_lock = new();
    private static Replicator? s_current;

    /// <summary>Runs <paramref name="replicator"/> after every save of a note until the result is disposed.</summary>
    public static IDisposable Start(Replicator replicator)
    {
        ArgumentNullException.ThrowIfNull(replicator);
        if (Interlocked.CompareExchange(ref s_current, replicator, null) is not null)
            throw new InvalidOperationException("Another replicator is already prompted by saves.");
        return new Subscription(replicator);
    }

    [SubscribeTo(typeof(Note.Written))]
    static void OnWritten(Note.Written e) => Prompt();

    [SubscribeTo(typeof(Note.Edited))]
    static void OnEdited(Note.Edited e) => Prompt();

    private static void Prompt()
    {
        var replicator = Volatile.Read(ref s_current);
        if (replicator is null) return;
        // A replicator reads with one reader: one run at a time.
        lock (s_lock) replicator.Run();
    }

    private sealed class Subscription(Replicator replicator) : IDisposable
    {
        public void Dispose() => Interlocked.CompareExchange(ref s_current, null, replicator);
    }
}
