namespace ProcessDsl;

/// <summary>
/// Carries prompts between processes: "application X has recorded events up to notification n".
/// Prompts are hints only (a lost one delays an event until the next poll), so a transport may drop
/// them under load. Each store offers its own (<see cref="Persistence.CreatePromptTransport"/>).
/// </summary>
public abstract class PromptTransport : IDisposable
{
    /// <summary>Tells every listening follower of <paramref name="application"/> that it has recorded up to <paramref name="notificationId"/>.</summary>
    public abstract void Announce(string application, long notificationId);

    /// <summary>
    /// Starts receiving prompts from <paramref name="upstreams"/> for <paramref name="follower"/>.
    /// <paramref name="onPrompt"/> runs on a background thread with the upstream and notification id;
    /// an id of 0 means "look at everything" (sent after the transport reconnects).
    /// </summary>
    public abstract void Listen(string follower, IReadOnlyCollection<string> upstreams, Action<string, long> onPrompt);

    /// <inheritdoc/>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Stops listening and releases resources.</summary>
    protected abstract void Dispose(bool disposing);
}
