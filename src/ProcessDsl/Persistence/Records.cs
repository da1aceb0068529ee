namespace ProcessDsl;

/// <summary>An event about to be stored.</summary>
internal sealed record NewEvent(Guid OriginatorId, long OriginatorVersion, string Topic, byte[] State, DateTimeOffset Timestamp, int Version = 1, EventMetadata? Metadata = null);

/// <summary>
/// A tracking position to move, in an append's transaction, from <paramref name="Expected"/> to
/// <paramref name="Position"/>: the move happens only if the stored position is still the expected one.
/// </summary>
/// <param name="Upstream">The upstream application whose events were processed.</param>
/// <param name="Expected">The position the step started from (0: the follower has no tracking row yet).</param>
/// <param name="Position">The position after the step.</param>
public sealed record TrackingUpdate(string Upstream, long Expected, long Position);

/// <summary>What <see cref="Persistence.AppendAtOnce"/> did.</summary>
/// <param name="Newest">The newest notification id the append found under its lock: its events took the ids after it, in order.</param>
/// <param name="TrackingMoved">
/// True when the tracking row was at the expected position and moved (or no move was asked); false when
/// no row was at it, which the store then tells apart: a follower's first step (no row yet) or a conflict.
/// </param>
public readonly record struct AppendedAtOnce(long Newest, bool TrackingMoved);

/// <summary>
/// A write of a user's LinqToDB-mapped row (save or delete) made in a processing step. When its type's
/// statements are built once (<paramref name="Statements"/> not null), the write can also join a batch
/// of the step's row writes sent in one round trip (<see cref="RowStatements.Batch"/>).
/// </summary>
internal sealed record RowChange(Type RowType, Action<LinqToDB.Data.DataConnection> EnsureTable, Action<LinqToDB.Data.DataConnection> Apply,
    RowStatements? Statements = null, object? Row = null, bool IsDelete = false);

/// <summary>
/// How far a write got, so a failure can be told apart: retryable at once, rolled back, or of unknown
/// outcome. A provider's <see cref="Persistence.AppendAtOnce"/> reports its progress here as it goes.
/// </summary>
public sealed class WriteProgress
{
    /// <summary>
    /// The first statement completed: from here a failed write is never retried on a fresh connection.
    /// Before it, a broken connection means nothing of the write reached the database.
    /// </summary>
    public bool Sent { get; set; }

    /// <summary>The first notification id this append was to use (0 before it read the newest).</summary>
    public long FirstId { get; set; }

    /// <summary>COMMIT was sent: a failure from here leaves the outcome unknown.</summary>
    public bool Committing { get; internal set; }

    /// <summary>
    /// Set by a provider whose write carries its own <c>COMMIT</c> in the same round trip
    /// (<see cref="Persistence.AppendCommitted"/>) when a failure leaves it unknown whether that
    /// <c>COMMIT</c> ran: the connection failed after the write's statements ran, or without any reply.
    /// </summary>
    public bool OutcomeUnknown { get; set; }
}
