namespace ProcessDsl;

/// <summary>
/// Raised when a save would record an aggregate version that is already stored: another writer
/// changed the aggregate since it was read. Nothing of the failed save is stored; get the
/// aggregate again and retry the command.
/// </summary>
public sealed class ConcurrencyException : Exception
{
    /// <summary>Creates the exception for the given aggregate and version.</summary>
    public ConcurrencyException(string application, Guid aggregateId, long version, Exception? inner = null)
        : base($"Concurrency conflict in application '{application}': aggregate {aggregateId} already has version {version}. " +
               "Another writer changed it since it was read; nothing of this save was stored. Get the aggregate again and retry.", inner)
    {
        Application = application;
        AggregateId = aggregateId;
        Version = version;
    }

    /// <summary>The application whose log refused the write.</summary>
    public string Application { get; }

    /// <summary>The aggregate whose version was already taken.</summary>
    public Guid AggregateId { get; }

    /// <summary>The version that was already stored.</summary>
    public long Version { get; }
}
