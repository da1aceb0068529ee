namespace ProcessDsl;

/// <summary>Settings of a <see cref="RemoteNotificationLog"/>.</summary>
public sealed record RemoteNotificationLogOptions
{
    /// <summary>A bearer token sent with every request (none when null).</summary>
    public string? BearerToken { get; init; }

    /// <summary>
    /// The server's section size, when known. When null it is learned from the server's
    /// <c>current</c> section on first use; either way every section read is checked against it.
    /// </summary>
    public int? SectionSize { get; init; }

    /// <summary>
    /// How many times one section is requested before a transient failure (connection refused or
    /// reset, a timeout, 408, 429 or 5xx) is raised (default 5).
    /// </summary>
    public int MaxAttempts { get; init; } = 5;

    /// <summary>The first retry delay; each further attempt doubles it, with jitter, up to <see cref="MaxBackoff"/> (default 100 ms).</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest retry delay, also the cap on a server's <c>Retry-After</c> (default 5 s).</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long one request may take before it counts as a transient failure (default 30 s).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How many archived sections after the one just read are requested ahead, concurrently, so a
    /// reader catching up does not wait a round trip per section (default 3; 0 turns it off). Only
    /// archived sections are taken from read-ahead, because they never change; anything else is
    /// requested afresh when it is asked for.
    /// </summary>
    public int ReadAhead { get; init; } = 3;

    /// <summary>
    /// The largest response body accepted, in bytes (default 8 MiB): a section beyond it, whatever
    /// size the server declares, raises a <see cref="RemoteNotificationLogException"/> instead of
    /// filling memory. Raise it for sections of many or large events.
    /// </summary>
    public int MaxResponseBytes { get; init; } = 8 << 20;

    /// <summary>
    /// The largest section size accepted from a server (default 10,000 notifications): a server
    /// declaring more is refused with a <see cref="RemoteNotificationLogException"/>.
    /// </summary>
    public int MaxSectionSize { get; init; } = 10_000;

    internal void Validate()
    {
        if (MaxResponseBytes < 1024) throw new ArgumentOutOfRangeException(nameof(MaxResponseBytes), MaxResponseBytes, "The body limit must be at least 1024 bytes.");
        if (MaxSectionSize < 1) throw new ArgumentOutOfRangeException(nameof(MaxSectionSize), MaxSectionSize, "The section size limit must be at least 1.");
        if (SectionSize > MaxSectionSize) throw new ArgumentOutOfRangeException(nameof(SectionSize), SectionSize, $"The section size is more than MaxSectionSize ({MaxSectionSize}).");
        if (ReadAhead is < 0 or > 64) throw new ArgumentOutOfRangeException(nameof(ReadAhead), ReadAhead, "Read-ahead must be from 0 to 64 sections.");
        if (SectionSize is < 1) throw new ArgumentOutOfRangeException(nameof(SectionSize), SectionSize, "The section size must be at least 1.");
        if (MaxAttempts < 1) throw new ArgumentOutOfRangeException(nameof(MaxAttempts), MaxAttempts, "At least one attempt is needed.");
        if (InitialBackoff < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(InitialBackoff), InitialBackoff, "The backoff must not be negative.");
        if (MaxBackoff < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(MaxBackoff), MaxBackoff, "The backoff must not be negative.");
        if (RequestTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(RequestTimeout), RequestTimeout, "The timeout must be positive.");
        if (BearerToken is not null && (BearerToken.Length == 0 || BearerToken.Any(c => c is < '!' or > '~')))
            throw new ArgumentException("The bearer token must be non-empty printable ASCII without spaces.", nameof(BearerToken));
    }
}
