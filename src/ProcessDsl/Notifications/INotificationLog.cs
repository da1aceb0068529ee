namespace ProcessDsl;

/// <summary>
/// An application's notification log, local (<see cref="NotificationLog"/>) or remote
/// (<c>RemoteNotificationLog</c>): the application sequence presented as linked sections, plus a
/// direct range read used by followers.
/// </summary>
public interface INotificationLog
{
    /// <summary>The name of the application whose log this is.</summary>
    string Application { get; }

    /// <summary>The number of notifications per section.</summary>
    int SectionSize { get; }

    /// <summary>Gets a section: <c>"current"</c> or <c>"first,last"</c> (normalised to this log's size).</summary>
    /// <exception cref="ArgumentException">The section id is malformed.</exception>
    Section this[string sectionId] { get; }

    /// <summary>Gets a section asynchronously.</summary>
    /// <exception cref="ArgumentException">The section id is malformed.</exception>
    Task<Section> GetSectionAsync(string sectionId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads up to <paramref name="limit"/> ids after <paramref name="after"/>, keeping only the
    /// given topics (all when null). The batch's <see cref="NotificationBatch.Position"/> is the last
    /// id covered, filtered or not, so a follower advances past topics it does not handle.
    /// </summary>
    NotificationBatch Select(long after, int limit, IReadOnlySet<string>? topics = null);

    /// <summary>Asynchronous <see cref="Select"/>.</summary>
    Task<NotificationBatch> SelectAsync(long after, int limit, IReadOnlySet<string>? topics = null, CancellationToken cancellationToken = default);
}

/// <summary>The result of a range read of a notification log.</summary>
/// <param name="Items">The matching notifications, in id order.</param>
/// <param name="Position">The last notification id the read covered (the new reader position).</param>
public sealed record NotificationBatch(IReadOnlyList<Notification> Items, long Position)
{
    /// <summary>
    /// Whether <see cref="Position"/> was the newest id when the log was read (false when unknown):
    /// a follower that committed this batch is caught up and need not ask again.
    /// </summary>
    public bool IsEnd { get; init; }
}
