namespace ProcessDsl;

/// <summary>
/// An application that follows upstream applications: it reads their notification logs and reacts
/// to their events in policies (<see cref="PolicyAttribute"/>), and everything a step does (new
/// events, projection rows, the new tracking position) commits in one transaction.
/// </summary>
/// <remarks>
/// Declare process applications <c>partial</c>: the source generator overrides
/// <see cref="HandledTopics"/> and <see cref="DispatchPolicy"/> from the policies.
/// </remarks>
public abstract class ProcessApplication : Application
{
    private static readonly IReadOnlySet<string> s_none = new HashSet<string>();

    /// <summary>The topics this application's policies handle; followers read only these.</summary>
    public virtual IReadOnlySet<string> HandledTopics => s_none;

    /// <summary>
    /// Dispatches one upstream notification to the policy for its topic: the generated override
    /// checks the topic, and only then deserialises the event and calls the policy. Returns false
    /// when no policy handles the topic.
    /// </summary>
    protected virtual bool DispatchPolicy(Notification notification, ProcessingEvent processing) => false;

    internal bool Dispatch(Notification notification, ProcessingEvent processing) => DispatchPolicy(notification, processing);
}
