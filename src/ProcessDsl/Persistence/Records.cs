namespace ProcessDsl;

/// <summary>An event about to be stored.</summary>
internal sealed record NewEvent(Guid OriginatorId, long OriginatorVersion, string Topic, byte[] State, DateTimeOffset Timestamp, int Version = 1, EventMetadata? Metadata = null);

/// <summary>A tracking position to move from <paramref name="Expected"/> to <paramref name="Position"/> in the same transaction.</summary>
internal sealed record TrackingUpdate(string Upstream, long Expected, long Position);

/// <summary>
/// A write of a user's LinqToDB-mapped row (save or delete) made in a processing step. When its type's
/// statements are built once (<paramref name="Statements"/> not null), the write can also join a batch
/// of the step's row writes sent in one round trip (<see cref="RowStatements.Batch"/>).
/// </summary>
internal sealed record RowChange(Type RowType, Action<LinqToDB.Data.DataConnection> EnsureTable, Action<LinqToDB.Data.DataConnection> Apply,
    RowStatements? Statements = null, object? Row = null, bool IsDelete = false);

/// <summary>How far a write got, so a failure can be told apart: retryable at once, rolled back, or of unknown outcome.</summary>
internal sealed class WriteProgress
{
    /// <summary>The first statement completed: from here a failed write is never retried on a fresh connection.</summary>
    public bool Sent { get; set; }

    /// <summary>The first notification id this append was to use (0 before it read the newest).</summary>
    public long FirstId { get; set; }

    /// <summary>COMMIT was sent: a failure from here leaves the outcome unknown.</summary>
    public bool Committing { get; set; }
}
