using Microsoft.Extensions.Logging;

namespace ProcessDsl;

/// <summary>The runtime's log messages, source-generated, with stable event ids (1000-1099).</summary>
internal static partial class ProcessDslLog
{
    [LoggerMessage(EventId = 1001, EventName = "PolicyRetrying", Level = LogLevel.Warning,
        Message = "{Application}: {What} failed on notification {NotificationId} from {Upstream} (attempt {Attempt}); retrying")]
    internal static partial void PolicyRetrying(ILogger logger, Exception? error, string application, string what, long notificationId, string upstream, int attempt);

    [LoggerMessage(EventId = 1002, EventName = "StepRetrying",
        Message = "{Application}: step following {Upstream} failed (attempt {Attempt}); retrying")]
    internal static partial void StepRetrying(ILogger logger, LogLevel level, Exception error, string application, string upstream, int attempt);
}
