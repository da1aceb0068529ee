namespace ProcessDsl;

/// <summary>
/// A follower tried to move its tracking position from a value that is no longer stored: another
/// worker of the same application processed the same notifications first. The step was rolled back
/// whole; the follower resumes from the stored position, so no effect happens twice.
/// </summary>
public sealed class TrackingConflictException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TrackingConflictException(string application, string upstream, long expected, long? actual)
        : base($"Tracking conflict in application '{application}' following '{upstream}': expected stored position {expected}, found {(actual is null ? "none" : actual.ToString())}. " +
               "Another worker processed these notifications; this step was rolled back.")
    {
        Application = application;
        Upstream = upstream;
        Expected = expected;
        Actual = actual;
    }

    /// <summary>The follower.</summary>
    public string Application { get; }

    /// <summary>The upstream application.</summary>
    public string Upstream { get; }

    /// <summary>The position the step expected to replace.</summary>
    public long Expected { get; }

    /// <summary>The position found (null when there was no tracking row).</summary>
    public long? Actual { get; }
}
