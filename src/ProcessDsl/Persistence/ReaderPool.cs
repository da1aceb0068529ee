using System.Collections.Concurrent;

namespace ProcessDsl;

/// <summary>
/// Held reader connections of one application, each with its prepared statements: a read takes one,
/// runs, and gives it back, so no read opens a connection or builds a statement. A connection that
/// failed is dropped; a read on a held connection the server cut is retried once on a new one (reads
/// change nothing, so a retry cannot double anything).
/// </summary>
internal sealed class ReaderPool(Persistence persistence, string application, StoreTables tables, int capacity = 8) : IDisposable
{
    private readonly ConcurrentBag<StoreCommands> _idle = [];
    private int _disposed;

    public T Read<T>(Func<StoreCommands, T> read) => Read(read, static (session, read) => read(session));

    /// <summary>
    /// As <see cref="Read{T}"/>, with the read's arguments passed as <paramref name="state"/>, so that a
    /// static lambda serves every call and a read allocates no closure.
    /// </summary>
    public T Read<TState, T>(TState state, Func<StoreCommands, TState, T> read)
    {
        for (var attempt = 1; ; attempt++)
        {
            var (session, held) = Take(attempt);
            T result;
            try
            {
                result = read(session, state);
            }
            catch (Exception ex)
            {
                if (Retry(ex, session, attempt, held)) continue;
                throw;
            }
            Return(session);
            return result;
        }
    }

    /// <summary>As <see cref="Read{T}"/>, for a read that awaits the database.</summary>
    public async ValueTask<T> ReadAsync<T>(Func<StoreCommands, Task<T>> read)
    {
        for (var attempt = 1; ; attempt++)
        {
            var (session, held) = Take(attempt);
            T result;
            try
            {
                result = await read(session).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                if (Retry(ex, session, attempt, held)) continue;
                throw;
            }
            Return(session);
            return result;
        }
    }

    /// <summary>A held connection on the first attempt when there is one (a retry takes a new one: the other held ones were likely cut too).</summary>
    private (StoreCommands Session, bool Held) Take(int attempt)
    {
        StoreCommands? session = null;
        var held = attempt == 1 && _idle.TryTake(out session);
        return (session ?? new StoreCommands(persistence.OpenConnection(application, StoreConnectionKind.Reader), persistence.GuidParameterType), held);
    }

    /// <summary>After a failed read: drops its connection; true to retry once when a held connection turned out broken.</summary>
    private bool Retry(Exception ex, StoreCommands session, int attempt, bool held)
    {
        session.Dispose();
        if (attempt != 1 || !held || persistence.Classify(ex, tables) != StoreFault.BrokenConnection) return false;
        Clear();
        return true;
    }

    private void Return(StoreCommands session)
    {
        if (Volatile.Read(ref _disposed) != 0 || _idle.Count >= capacity) session.Dispose();
        else _idle.Add(session);
    }

    private void Clear()
    {
        while (_idle.TryTake(out var session)) session.Dispose();
    }

    public void Dispose()
    {
        Interlocked.Exchange(ref _disposed, 1);
        Clear();
    }
}
