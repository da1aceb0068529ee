using LinqToDB.Mapping;

namespace ProcessDsl;

/// <summary>A row of an application's <c>x_events</c> table.</summary>
internal sealed class EventRecord
{
    [Column("notification_id"), PrimaryKey] public long NotificationId { get; set; }
    [Column("originator_id"), NotNull] public Guid OriginatorId { get; set; }
    [Column("originator_version"), NotNull] public long OriginatorVersion { get; set; }
    [Column("topic"), NotNull] public string Topic { get; set; } = "";
    [Column("state"), NotNull] public byte[] State { get; set; } = [];
    [Column("timestamp"), NotNull] public long Timestamp { get; set; }

    public Notification ToNotification() => new(NotificationId, OriginatorId, OriginatorVersion, Topic, State);
}

/// <summary>A row of an application's <c>x_tracking</c> table: how far it has processed one upstream log.</summary>
internal sealed class TrackingRecord
{
    [Column("upstream_application"), PrimaryKey] public string UpstreamApplication { get; set; } = "";
    [Column("position"), NotNull] public long Position { get; set; }
}

/// <summary>An event about to be stored.</summary>
internal sealed record NewEvent(Guid OriginatorId, long OriginatorVersion, string Topic, byte[] State, DateTimeOffset Timestamp);

/// <summary>A tracking position to move from <paramref name="Expected"/> to <paramref name="Position"/> in the same transaction.</summary>
internal sealed record TrackingUpdate(string Upstream, long Expected, long Position);

/// <summary>A write of a user's LinqToDB-mapped row (save or delete) made in a processing step.</summary>
internal sealed record RowChange(Type RowType, Action<LinqToDB.Data.DataConnection> EnsureTable, Action<LinqToDB.Data.DataConnection> Apply);
