using System.Runtime.CompilerServices;

namespace ProcessDsl;

/// <summary>
/// Reads a notification log (local or remote) from a position, section by section, and remembers
/// how far it got. Store <see cref="Position"/> and <see cref="Seek"/> back to it to resume.
/// </summary>
public sealed class NotificationLogReader
{
    private readonly INotificationLog _log;

    /// <summary>Creates a reader at position 0 (before the first notification).</summary>
    public NotificationLogReader(INotificationLog log)
    {
        ArgumentNullException.ThrowIfNull(log);
        _log = log;
    }

    /// <summary>The id of the last notification read (0 before the first).</summary>
    public long Position { get; private set; }

    /// <summary>Moves the reader so that the next read starts after <paramref name="position"/>.</summary>
    public NotificationLogReader Seek(long position)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(position);
        Position = position;
        return this;
    }

    /// <summary>Reads every notification after the position, and advances the position past them.</summary>
    public IReadOnlyList<Notification> Read()
    {
        var all = new List<Notification>();
        var sectionId = SectionId.Containing(Position + 1, _log.SectionSize).ToString();
        while (true)
        {
            var section = _log[sectionId];
            Take(section, all);
            if (section.NextId is null) return all;
            sectionId = section.NextId;
        }
    }

    /// <summary>Streams every notification after the position, advancing the position as each is yielded.</summary>
    public async IAsyncEnumerable<Notification> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var sectionId = SectionId.Containing(Position + 1, _log.SectionSize).ToString();
        while (true)
        {
            var section = await _log.GetSectionAsync(sectionId, cancellationToken).ConfigureAwait(false);
            foreach (var item in section.Items)
            {
                if (item.Id <= Position) continue;
                Position = item.Id;
                yield return item;
            }
            if (section.NextId is null) yield break;
            sectionId = section.NextId;
        }
    }

    private void Take(Section section, List<Notification> into)
    {
        foreach (var item in section.Items)
        {
            if (item.Id <= Position) continue;
            into.Add(item);
            Position = item.Id;
        }
    }
}
