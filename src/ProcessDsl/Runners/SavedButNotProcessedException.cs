namespace ProcessDsl;

/// <summary>
/// Thrown by a command's <see cref="Application.Save"/> under the <see cref="SingleThreadedRunner"/>
/// when the save itself is stored but processing what it caused failed (a follower stopped, or the
/// database stayed away through every retry). The events are stored: do not save them again. The
/// failure is also recorded on the runner (<see cref="Runner.WaitUntilIdleAsync"/> and
/// <see cref="Runner.StopAsync"/> rethrow it), and <see cref="Exception.InnerException"/> says what failed.
/// A save that stored nothing throws <see cref="ConcurrencyException"/> or the database's error instead.
/// </summary>
public sealed class SavedButNotProcessedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SavedButNotProcessedException(string application, long lastNotificationId, Exception inner)
        : base($"Application '{application}' stored the save (up to notification {lastNotificationId}), but processing it failed: {inner.Message}", inner)
    {
        Application = application;
        LastNotificationId = lastNotificationId;
    }

    /// <summary>The application whose save is stored.</summary>
    public string Application { get; }

    /// <summary>The last notification id the save was given.</summary>
    public long LastNotificationId { get; }
}
