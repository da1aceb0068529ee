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

    public T Read<T>(Func<StoreCommands, T> read)
    {
        for (var attempt = 1; ; attempt++)
        {
            // A retry takes a new connection: the other held ones were likely cut too.
            StoreCommands? session = null;
            var held = attempt == 1 && _idle.TryTake(out session);
            session ??= new StoreCommands(persistence.OpenConnection(application, StoreConnectionKind.Reader), persistence.GuidParameterType);
            T result;
            try
            {
                result = read(session);
            }
            catch (Exception ex)
            {
                session.Dispose();
                if (attempt == 1 && held && persistence.Classify(ex, tables) == StoreFault.BrokenConnection)
                {
                    Clear();
                    continue;
                }
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
            StoreCommands? session = null;
            var held = attempt == 1 && _idle.TryTake(out session);
            session ??= new StoreCommands(persistence.OpenConnection(application, StoreConnectionKind.Reader), persistence.GuidParameterType);
            T result;
            try
            {
                result = await read(session).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                session.Dispose();
                if (attempt == 1 && held && persistence.Classify(ex, tables) == StoreFault.BrokenConnection)
                {
                    Clear();
                    continue;
                }
                throw;
            }
            Return(session);
            return result;
        }
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
