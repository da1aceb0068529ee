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

    internal void Validate()
    {
        if (BearerToken is not null && (BearerToken.Length == 0 || BearerToken.Any(c => c is < '!' or > '~')))
            throw new ArgumentException("The bearer token must be non-empty printable ASCII without spaces.", nameof(BearerToken));
        if (ArchivedMaxAge < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(ArchivedMaxAge), ArchivedMaxAge, "The maximum age must not be negative.");
    }
}
