using System.Collections.Concurrent;

namespace ProcessDsl;

/// <summary>
/// Read-ahead of a <see cref="RemoteNotificationLog"/>: after an archived section is read, the next
/// <see cref="RemoteNotificationLogOptions.ReadAhead"/> sections are requested concurrently (one
/// attempt each), so a reader catching up does not wait a round trip per section. Only archived
/// sections are taken from it, because they never change; a failed or unfinished one is simply
/// requested again, with retries.
/// </summary>
internal sealed class RemoteReadAhead(int depth, Func<SectionId, CancellationToken, Task<Section>> fetch) : IDisposable
{
    private readonly ConcurrentDictionary<long, Task<Section?>> _ahead = new();
    private readonly CancellationTokenSource _disposed = new();

    /// <summary>The archived section <paramref name="id"/> if it was read ahead, else null.</summary>
    public async ValueTask<Section?> TakeAsync(SectionId id, CancellationToken cancellationToken)
    {
        if (depth == 0 || !_ahead.TryRemove(id.First, out var pending)) return null;
        var section = await pending.WaitAsync(cancellationToken).ConfigureAwait(false);
        return section is { IsArchived: true } ? section : null;
    }

    /// <summary>Requests the sections after an archived one, unless already requested.</summary>
    public void After(SectionId archived)
    {
        if (depth == 0 || _disposed.IsCancellationRequested) return;
        var size = archived.Length;
        // Forget read-ahead a reader left behind (it moved elsewhere), so nothing accumulates.
        if (_ahead.Count > depth * 4)
            foreach (var key in _ahead.Keys)
                if (key <= archived.First || key > archived.Last + size * depth) _ahead.TryRemove(key, out _);
        var next = archived;
        for (var i = 0; i < depth; i++)
        {
            if (next.Last == long.MaxValue) return;
            next = SectionId.Containing(next.Last + 1, (int)size);
            if (_ahead.ContainsKey(next.First)) continue;
            var id = next;
            _ahead.TryAdd(id.First, Task.Run(async () =>
            {
                try
                {
                    return await fetch(id, _disposed.Token).ConfigureAwait(false);
                }
                catch (Exception)
                {
                    return null; // requested again when it is asked for, with retries and a clear error
                }
            }));
        }
    }

    public void Dispose()
    {
        if (_disposed.IsCancellationRequested) return;
        _disposed.Cancel();
        _ahead.Clear();
        _disposed.Dispose();
    }
}
