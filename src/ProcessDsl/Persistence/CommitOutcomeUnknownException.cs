namespace ProcessDsl;

/// <summary>
/// A save's commit failed in a way that leaves its outcome unknown (the connection was lost during
/// <c>COMMIT</c>): its events may or may not be stored. Look before saving again (for example with
/// <see cref="Repository.Get{T}"/>: the aggregate's version tells). Never raised for a save that
/// certainly stored nothing (that is <see cref="ConcurrencyException"/> or the database's own error).
/// </summary>
public sealed class CommitOutcomeUnknownException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CommitOutcomeUnknownException(string application, Exception inner)
        : base($"Application '{application}': the commit failed with its outcome unknown (the connection was lost while committing); " +
               "the save's events may or may not be stored. Read the aggregate before saving again.", inner)
    {
        Application = application;
    }

    /// <summary>The application that was saving.</summary>
    public string Application { get; }
}
