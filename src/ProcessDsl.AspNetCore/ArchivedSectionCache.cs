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
/// concurrent requests for sections being loaded wait for that one read. A reader going through
/// the log in order has the block after the one it is in read ahead, in the background.
/// </summary>
internal sealed class ArchivedSectionCache(long capacityBytes)
{
    private const int BlockNotifications = 250;
    private const int MaxBlockSections = 16;

    private readonly ConcurrentDictionary<Key, Task<EncodedSection?>> _entries = new();
    private readonly ConcurrentQueue<Key> _order = new();
    private readonly ConcurrentDictionary<(string Application, int SectionSize), long> _knownEnds = new();
    private long _bytes;

    /// <summary>
    /// The section, from the cache when it is archived and there; else read with the sections after
    /// it. Null when the read failed or could not be cut into sections (serve it from the log instead).
    /// </summary>
    public async ValueTask<EncodedSection?> GetAsync(INotificationLog log, SectionId id, CancellationToken cancellationToken)
    {
        var size = log.SectionSize;
        var key = new Key(log.Application, size, id.First);
        EncodedSection? result;
        if (_entries.TryGetValue(key, out var known))
        {
            result = await known.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        else
        {
            var claimed = ClaimBlock(log, id, size);
            if (claimed.Count == 0)
            {
                // Someone else claimed this section first: wait for their read.
                result = _entries.TryGetValue(key, out var other) ? await other.WaitAsync(cancellationToken).ConfigureAwait(false) : null;
            }
            else
            {
                _ = LoadAsync(log, id, size, claimed);
                result = await claimed[0].Result.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        if (result is { Archived: true }) ReadAhead(log, id, size);
        return result;
    }

    private static int BlockSections(int size) => Math.Clamp(BlockNotifications / size, 1, MaxBlockSections);

    /// <summary>Claims <paramref name="id"/> and the sections after it in its block that nobody else has; empty when <paramref name="id"/> is taken.</summary>
    private List<Claim> ClaimBlock(INotificationLog log, SectionId id, int size)
    {
        var claimed = new List<Claim>();
        var next = id;
        for (var i = 0; i < BlockSections(size); i++)
        {
            var result = new TaskCompletionSource<EncodedSection?>(TaskCreationOptions.RunContinuationsAsynchronously);
            var key = new Key(log.Application, size, next.First);
            if (_entries.TryAdd(key, result.Task)) claimed.Add(new Claim(key, result, next));
            else if (i == 0) break;
            if (next.Last == long.MaxValue) break;
            next = SectionId.Containing(next.Last + 1, size);
        }
        return claimed;
    }

    /// <summary>Reads a block with one range read and answers every claim; never throws (a failed read answers null).</summary>
    private async Task LoadAsync(INotificationLog log, SectionId first, int size, List<Claim> claimed)
    {
        var answered = 0;
        try
        {
            // Not cancelled by any one request: others may be waiting on this read.
            var limit = (int)Math.Min((long)claimed.Count * size, int.MaxValue);
            var batch = await log.SelectAsync(first.First - 1, limit, null, CancellationToken.None).ConfigureAwait(false);
            // A short read found the end of the log; a full one says the end is further on.
            var end = batch.Position < first.First - 1 + limit ? batch.Position : long.MaxValue;
            _knownEnds.AddOrUpdate((log.Application, size), end, (_, known) => end == long.MaxValue || known == long.MaxValue ? end : Math.Max(known, end));
            for (; answered < claimed.Count; answered++)
            {
                // The section asked for is answered whatever it is; the others only when archived.
                var claim = claimed[answered];
                var section = Cut(batch.Items, first.First, claim.Id, size);
                var encoded = section is null || (!section.IsArchived && answered > 0) ? null : EncodedSection.Of(log, section, section.IsArchived);
                Answer(claim, encoded);
                // The first answer is out: encode the rest off the requester's path.
                if (answered == 0) await Task.Yield();
            }
        }
        catch (Exception)
        {
            for (; answered < claimed.Count; answered++) Answer(claimed[answered], null);
        }
    }

    private void Answer(Claim claim, EncodedSection? encoded)
    {
        if (encoded is null || !encoded.Archived || encoded.Body.Length > capacityBytes)
        {
            _entries.TryRemove(claim.Key, out _);
            claim.Result.TrySetResult(encoded);
            return;
        }
        claim.Result.TrySetResult(encoded);
        _order.Enqueue(claim.Key);
        var total = Interlocked.Add(ref _bytes, Cost(encoded));
        while (total > capacityBytes && _order.TryDequeue(out var oldest))
        {
            if (_entries.TryRemove(oldest, out var evicted) && evicted.IsCompletedSuccessfully && evicted.Result is { } gone)
                total = Interlocked.Add(ref _bytes, -Cost(gone));
            else
                total = Volatile.Read(ref _bytes);
        }
    }

    /// <summary>When the section before <paramref name="id"/> was read too (a reader going in order), starts reading the block after this one.</summary>
    private void ReadAhead(INotificationLog log, SectionId id, int size)
    {
        if (id.First > 1 && !_entries.ContainsKey(new Key(log.Application, size, id.First - size))) return;
        var blockSpan = (long)BlockSections(size) * size;
        if (id.First > long.MaxValue - blockSpan) return;
        var ahead = SectionId.Containing(id.First + blockSpan, size);
        // Not past the end of the log as last seen: nothing is there to read yet.
        if (_knownEnds.TryGetValue((log.Application, size), out var end) && ahead.First > end) return;
        if (_entries.ContainsKey(new Key(log.Application, size, ahead.First))) return;
        var claimed = ClaimBlock(log, ahead, size);
        if (claimed.Count > 0) _ = Task.Run(() => LoadAsync(log, ahead, size, claimed));
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

    private readonly record struct Claim(Key Key, TaskCompletionSource<EncodedSection?> Result, SectionId Id);
}
