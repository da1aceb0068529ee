using Microsoft.Extensions.Logging;

namespace ProcessDsl.Hosting;

/// <summary>The hosting package's log messages, source-generated, with stable event ids (2000-2099).</summary>
internal static partial class HostingLog
{
    [LoggerMessage(EventId = 2001, EventName = "RunnerStarting", Level = LogLevel.Information,
        Message = "Starting system {System} with the {Runner} on {Store}")]
    internal static partial void RunnerStarting(ILogger logger, string system, string runner, string store);

    [LoggerMessage(EventId = 2002, EventName = "RunnerStarted", Level = LogLevel.Information,
        Message = "System {System} started: {Applications} applications, {Followers} following")]
    internal static partial void RunnerStarted(ILogger logger, string system, int applications, int followers);

    [LoggerMessage(EventId = 2003, EventName = "RunnerStopping", Level = LogLevel.Information,
        Message = "Stopping system {System} (waiting at most {Timeout})")]
    internal static partial void RunnerStopping(ILogger logger, string system, TimeSpan timeout);

    [LoggerMessage(EventId = 2004, EventName = "RunnerStopped", Level = LogLevel.Information,
        Message = "System {System} stopped")]
    internal static partial void RunnerStopped(ILogger logger, string system);

    [LoggerMessage(EventId = 2005, EventName = "RunnerStopTimedOut", Level = LogLevel.Warning,
        Message = "System {System} did not stop within {Timeout}; its unfinished steps are rolled back and resume on the next start")]
    internal static partial void RunnerStopTimedOut(ILogger logger, string system, TimeSpan timeout);

    [LoggerMessage(EventId = 2006, EventName = "FollowerFailed", Level = LogLevel.Error,
        Message = "System {System} stopped with a follower error")]
    internal static partial void FollowerFailed(ILogger logger, Exception error, string system);

    [LoggerMessage(EventId = 2007, EventName = "WorkerStarting", Level = LogLevel.Information,
        Message = "Starting a worker of system {System} with the host's services: {Arguments}")]
    internal static partial void WorkerStarting(ILogger logger, string system, string arguments);
}
