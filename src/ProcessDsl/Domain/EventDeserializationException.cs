namespace ProcessDsl;

/// <summary>
/// A stored event could not be turned back into a <see cref="DomainEvent"/>: its topic is unknown or
/// its state is corrupt. Names the application (where known), the notification id and the topic.
/// </summary>
public sealed class EventDeserializationException : Exception
{
    /// <summary>Creates the exception.</summary>
    public EventDeserializationException(long notificationId, string topic, string reason, Exception? inner = null, string? application = null)
        : base(Describe(application, notificationId, topic, reason), inner)
    {
        Application = application;
        NotificationId = notificationId;
        Topic = topic;
        Reason = reason;
    }

    /// <summary>The application whose log holds the event, where known.</summary>
    public string? Application { get; }

    /// <summary>The notification id of the stored event.</summary>
    public long NotificationId { get; }

    /// <summary>The stored topic.</summary>
    public string Topic { get; }

    /// <summary>What was wrong.</summary>
    public string Reason { get; }

    /// <summary>The same error, now naming the application.</summary>
    public EventDeserializationException InApplication(string application) =>
        new(NotificationId, Topic, Reason, InnerException, application);

    private static string Describe(string? application, long id, string topic, string reason) =>
        application is null
            ? $"Cannot read notification {id} (topic '{topic}'): {reason}."
            : $"Cannot read notification {id} (topic '{topic}') of application '{application}': {reason}.";
}
