namespace ProcessDsl.AspNetCore;

/// <summary>Settings of the notification-log endpoints mapped by <see cref="NotificationLogEndpoints"/>.</summary>
public sealed record NotificationLogEndpointOptions
{
    /// <summary>
    /// When set, every request must carry <c>Authorization: Bearer {token}</c>; others get
    /// <c>401</c> with a <c>WWW-Authenticate</c> challenge. Tokens are compared in constant time.
    /// Archived sections are then marked <c>private</c> instead of <c>public</c>, so shared caches
    /// do not hand them to callers without the token.
    /// </summary>
    public string? BearerToken { get; init; }

    /// <summary>How long archived sections may be cached (default one year, the most HTTP allows).</summary>
    public TimeSpan ArchivedMaxAge { get; init; } = TimeSpan.FromSeconds(31_536_000);

    /// <summary>
    /// How many bytes of encoded archived sections the server keeps in memory (default 64 MiB; 0
    /// turns the cache off), so followers catching up over the same sections cost one database
    /// read between them. Archived sections never change, so nothing is invalidated, as long as
    /// an application name keeps naming the same log (do not wipe and refill a store under a
    /// running server). The oldest entries go first when the cache is full.
    /// </summary>
    public long ArchivedSectionCacheBytes { get; init; } = 64L << 20;

    /// <summary>
    /// Serve local logs (<see cref="NotificationLog"/>) with sections of this size instead of the
    /// application's own (null, the default, keeps each log's size). Over HTTP each section costs a
    /// request, so larger sections (say 100) make catching up much faster; readers learn the size
    /// from the server. Other <see cref="INotificationLog"/> implementations keep their own size.
    /// </summary>
    public int? SectionSize { get; init; }

    internal void Validate()
    {
        if (SectionSize is < 1)
            throw new ArgumentOutOfRangeException(nameof(SectionSize), SectionSize, "The section size must be at least 1.");
        if (ArchivedSectionCacheBytes < 0)
            throw new ArgumentOutOfRangeException(nameof(ArchivedSectionCacheBytes), ArchivedSectionCacheBytes, "The cache size must not be negative.");
        if (BearerToken is not null && (BearerToken.Length == 0 || BearerToken.Any(c => c is < '!' or > '~')))
            throw new ArgumentException("The bearer token must be non-empty printable ASCII without spaces.", nameof(BearerToken));
        if (ArchivedMaxAge < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(ArchivedMaxAge), ArchivedMaxAge, "The maximum age must not be negative.");
    }
}
