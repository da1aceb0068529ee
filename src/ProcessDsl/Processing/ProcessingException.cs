namespace ProcessDsl;

/// <summary>
/// Processing an upstream event failed, again on every retry (its policy threw, or its effects could
/// not be stored, e.g. a row type LinqToDB cannot map), so the follower stopped there: the events
/// before it are committed, nothing of it or after it is. Fix the cause and restart; processing
/// resumes at this event.
/// </summary>
public sealed class ProcessingException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ProcessingException(string application, string upstream, long notificationId, string topic, Exception inner)
        : base($"Application '{application}' stopped: processing notification {notificationId} (topic '{topic}') from '{upstream}' failed: {inner.Message}", inner)
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
