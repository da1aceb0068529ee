namespace ProcessDsl;

/// <summary>
/// The local notification log of an application: sections computed from its stored events, each
/// read with one indexed range query on the notification id.
/// </summary>
public sealed class NotificationLog : INotificationLog
{
    /// <summary>The default number of notifications per section.</summary>
    public const int DefaultSectionSize = 10;

    private readonly EventStore _store;

    internal NotificationLog(EventStore store, int sectionSize = DefaultSectionSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sectionSize, 1);
        _store = store;
        SectionSize = sectionSize;
    }

    /// <inheritdoc/>
    public string Application => _store.Application;

    /// <inheritdoc/>
    public int SectionSize { get; }

    /// <summary>The newest notification id (0 when the log is empty).</summary>
    public long MaxNotificationId => _store.MaxNotificationId();

    /// <summary>A view of the same log with another section size.</summary>
    public NotificationLog WithSectionSize(int sectionSize) => new(_store, sectionSize);

    /// <inheritdoc/>
    public Section this[string sectionId] => GetSection(sectionId);

    /// <inheritdoc/>
    public Task<Section> GetSectionAsync(string sectionId, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(GetSection(sectionId));
    }

    /// <inheritdoc/>
    public NotificationBatch Select(long after, int limit, IReadOnlySet<string>? topics = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(after);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var (items, upTo, isEnd) = _store.ReadAfter(after, limit, topics is null ? null : ListOf(topics));
        return new NotificationBatch(items, upTo) { IsEnd = isEnd };
    }

    /// <inheritdoc/>
    public Task<NotificationBatch> SelectAsync(long after, int limit, IReadOnlySet<string>? topics = null, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Select(after, limit, topics));
    }

    // A follower asks with the same set every step: keep its list form, per set (several followers
    // of this log ask in turn, from several threads).
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<IReadOnlySet<string>, string[]> _topicLists = [];

    private string[] ListOf(IReadOnlySet<string> topics) => _topicLists.GetValue(topics, static set =>
    {
        var list = set.ToArray();
        Array.Sort(list, StringComparer.Ordinal);
        return list;
    });

    private Section GetSection(string sectionId)
    {
        ArgumentNullException.ThrowIfNull(sectionId);
        SectionId id;
        if (sectionId == SectionId.Current)
        {
            var max = _store.MaxNotificationId();
            id = SectionId.Containing(Math.Max(1, max), SectionSize);
        }
        else
        {
            id = SectionId.Parse(sectionId).Normalize(SectionSize);
        }
        var items = _store.ReadRange(id.First - 1, id.Last, null);
        return Link(id, items, SectionSize);
    }

    /// <summary>Builds a section with its previous and next ids.</summary>
    internal static Section Link(SectionId id, IReadOnlyList<Notification> items, int sectionSize)
    {
        var previous = id.First > 1 ? SectionId.Containing(id.First - 1, sectionSize).ToString() : null;
        var full = items.Count >= sectionSize && id.Last < long.MaxValue;
        var next = full ? SectionId.Containing(id.Last + 1, sectionSize).ToString() : null;
        return new Section(id.ToString(), items, previous, next);
    }
}
