using System.Buffers;
using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace ProcessDsl.AspNetCore;

/// <summary>A section encoded for the wire: its JSON body, its ETag, and whether it is archived.</summary>
internal sealed record EncodedSection(byte[] Body, string ETag, bool Archived)
{
    public static EncodedSection Of(INotificationLog log, Section section, bool archived)
    {
        var buffer = new ArrayBufferWriter<byte>(512 + section.Items.Count * 320);
        SectionJson.Write(buffer, log.Application, log.SectionSize, section);
        var body = buffer.WrittenSpan.ToArray();
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(body, hash);
        return new EncodedSection(body, "\"" + Convert.ToHexStringLower(hash[..16]) + "\"", archived);
    }
}

/// <summary>
/// Encoded archived sections kept in memory, bounded by bytes, oldest out first. A miss reads a
/// block of following sections with one range read (followers read sections in order), and
/// concurrent requests for sections being loaded wait for that one read.
/// </summary>
internal sealed class ArchivedSectionCache(long capacityBytes)
{
    private const int BlockNotifications = 1_000;
    private const int MaxBlockSections = 16;

    private readonly ConcurrentDictionary<Key, Task<EncodedSection?>> _entries = new();
    private readonly ConcurrentQueue<Key> _order = new();
    private long _bytes;

    /// <summary>
    /// The section, from the cache when it is archived and there; else read with the sections after
    /// it. Null when the read could not be cut into sections (serve it from the log instead).
    /// </summary>
    public async ValueTask<EncodedSection?> GetAsync(INotificationLog log, SectionId id, CancellationToken cancellationToken)
    {
        var size = log.SectionSize;
        var key = new Key(log.Application, size, id.First);
        if (_entries.TryGetValue(key, out var known)) return await known.WaitAsync(cancellationToken).ConfigureAwait(false);

        // Claim this section and the next few that nobody else is loading.
        var claimed = new List<(Key Key, TaskCompletionSource<EncodedSection?> Result, SectionId Id)>();
        var sections = Math.Clamp(BlockNotifications / size, 1, MaxBlockSections);
        var next = id;
        for (var i = 0; i < sections; i++)
        {
            var result = new TaskCompletionSource<EncodedSection?>(TaskCreationOptions.RunContinuationsAsynchronously);
            var nextKey = new Key(log.Application, size, next.First);
            if (_entries.TryAdd(nextKey, result.Task)) claimed.Add((nextKey, result, next));
            else if (i == 0) break;
            if (next.Last == long.MaxValue) break;
            next = SectionId.Containing(next.Last + 1, size);
        }
        if (claimed.Count == 0 || claimed[0].Key != key)
        {
            // Someone else claimed this section first: wait for their read.
            return _entries.TryGetValue(key, out var other) ? await other.WaitAsync(cancellationToken).ConfigureAwait(false) : null;
        }
        try
        {
            // One read for the block, not cancelled by this request alone: others may be waiting on it.
            var limit = (int)Math.Min((long)sections * size, int.MaxValue);
            var batch = await log.SelectAsync(id.First - 1, limit, null, CancellationToken.None).ConfigureAwait(false);
            for (var i = 0; i < claimed.Count; i++)
            {
                var (claimedKey, result, sectionId) = claimed[i];
                var section = Cut(batch.Items, id.First, sectionId, size);
                // The section asked for is answered whatever it is; the others only when archived.
                var encoded = section is null || (!section.IsArchived && i > 0) ? null : EncodedSection.Of(log, section, section.IsArchived);
                if (encoded is null || !encoded.Archived || encoded.Body.Length > capacityBytes)
                {
                    _entries.TryRemove(claimedKey, out _);
                    result.SetResult(encoded);
                    continue;
                }
                result.SetResult(encoded);
                _order.Enqueue(claimedKey);
                var total = Interlocked.Add(ref _bytes, Cost(encoded));
                while (total > capacityBytes && _order.TryDequeue(out var oldest))
                {
                    if (_entries.TryRemove(oldest, out var evicted) && evicted.IsCompletedSuccessfully && evicted.Result is { } gone)
                        total = Interlocked.Add(ref _bytes, -Cost(gone));
                    else
                        total = Volatile.Read(ref _bytes);
                }
            }
        }
        catch (Exception)
        {
            foreach (var (claimedKey, result, _) in claimed)
            {
                _entries.TryRemove(claimedKey, out _);
                result.TrySetResult(null);
            }
            throw;
        }
        return await claimed[0].Result.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The section cut from a block read (all of the log up to its newest id at the time), or null if the read does not fit.</summary>
    private static Section? Cut(IReadOnlyList<Notification> items, long blockFirst, SectionId id, int size)
    {
        var offset = id.First - blockFirst;
        if (offset > items.Count) return null;
        var start = (int)offset;
        var count = (int)Math.Min(id.Length, items.Count - start);
        var slice = new Notification[count];
        for (var i = 0; i < count; i++)
        {
            slice[i] = items[start + i];
            if (slice[i].Id != id.First + i) return null;
        }
        var previous = id.First > 1 ? SectionId.Containing(id.First - 1, size).ToString() : null;
        var full = count >= size && id.Last < long.MaxValue;
        return new Section(id.ToString(), slice, previous, full ? SectionId.Containing(id.Last + 1, size).ToString() : null);
    }

    private static long Cost(EncodedSection encoded) => encoded.Body.Length + 128;

    private readonly record struct Key(string Application, int SectionSize, long First);
}
