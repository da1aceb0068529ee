using Microsoft.Extensions.Logging;

namespace ProcessDsl;

/// <summary>Settings of an application.</summary>
public sealed record ApplicationOptions
{
    /// <summary>Notifications per section of the notification log (default 10).</summary>
    public int SectionSize { get; init; } = NotificationLog.DefaultSectionSize;

    /// <summary>How many aggregates the repository keeps in its cache (default 10,000; 0 turns it off).</summary>
    public int CacheCapacity { get; init; } = 10_000;

    /// <summary>Where the application logs; nothing is logged when null.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }
}
