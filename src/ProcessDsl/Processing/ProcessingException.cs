namespace ProcessDsl;

/// <summary>
/// A policy failed on an upstream event, again on every retry, so the follower stopped there: the
/// events before it are committed, nothing of it or after it is. Fix the policy (or the data) and
/// restart; processing resumes at this event.
/// </summary>
public sealed class ProcessingException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ProcessingException(string application, string upstream, long notificationId, string topic, Exception inner)
        : base($"Application '{application}' stopped: its policy failed on notification {notificationId} (topic '{topic}') from '{upstream}': {inner.Message}", inner)
    {
        Application = application;
        Upstream = upstream;
        NotificationId = notificationId;
        Topic = topic;
    }

    /// <summary>The follower that stopped.</summary>
    public string Application { get; }

    /// <summary>The upstream application of the failing event.</summary>
    public string Upstream { get; }

    /// <summary>The failing event's notification id in the upstream log.</summary>
    public long NotificationId { get; }

    /// <summary>The failing event's topic.</summary>
    public string Topic { get; }
}
