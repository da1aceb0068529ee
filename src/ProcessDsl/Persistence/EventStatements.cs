using System.Data;
using System.Data.Common;

namespace ProcessDsl;

/// <summary>
/// The library's statements on an application's tables, as SQL text built once per table set and
/// run as prepared commands of a held connection (<see cref="StoreCommands"/>). Plain SQL that
/// SQLite and PostgreSQL both accept; what differs lives in the provider.
/// </summary>
internal sealed class EventStatements(StoreTables tables)
{
    private const string Columns = "notification_id, originator_id, originator_version, topic, state, version, metadata";

    private readonly string _maxId = $"SELECT MAX(notification_id) FROM {tables.Events}";
    private readonly string _range = $"SELECT {Columns} FROM {tables.Events} WHERE notification_id > @after AND notification_id <= @upto ORDER BY notification_id";
    private readonly string _aggregate = $"SELECT {Columns} FROM {tables.Events} WHERE originator_id = @id AND originator_version > @after ORDER BY originator_version";
    private readonly string _aggregateTaken = $"SELECT 1 FROM {tables.Events} WHERE originator_id = @id AND originator_version = @version";
    private readonly string _minIdIn = $"SELECT MIN(notification_id) FROM {tables.Events} WHERE notification_id >= @first AND notification_id <= @last";
    private readonly string _position = $"SELECT \"position\" FROM {tables.Tracking} WHERE upstream_application = @upstream";
    private readonly string _positions = $"SELECT upstream_application, \"position\" FROM {tables.Tracking}";
    private readonly string _moveTracking = $"UPDATE {tables.Tracking} SET \"position\" = @position WHERE upstream_application = @upstream AND \"position\" = @expected";
    private readonly string _insertTracking = $"INSERT INTO {tables.Tracking} (upstream_application, \"position\") VALUES (@upstream, @position)";
    private readonly string _park = $"INSERT INTO {tables.Parked} (upstream_application, notification_id, topic, exception_type, message, attempts, parked_at) " +
                                    "VALUES (@upstream, @id, @topic, @type, @message, @attempts, @at)";
    private readonly string _parked = $"SELECT upstream_application, notification_id, topic, exception_type, message, attempts, parked_at FROM {tables.Parked} ORDER BY upstream_application, notification_id";
    private readonly string _unpark = $"DELETE FROM {tables.Parked} WHERE upstream_application = @upstream AND notification_id = @id";
    private readonly string[] _rangeByTopicCount = new string[16];

    public StoreTables Tables { get; } = tables;

    /// <summary>The range read's text, with a filter of <paramref name="topicCount"/> topics or none.</summary>
    internal string RangeSql(int? topicCount) => topicCount is { } count ? RangeByTopics(count) : _range;

    /// <summary>The aggregate read's text.</summary>
    internal string AggregateSql => _aggregate;

    public long MaxNotificationId(StoreCommands db) => IdOrZero(db.Prepare(_maxId).ExecuteScalar());

    /// <summary>The newest notification id (0 when empty), read without blocking a thread.</summary>
    public async Task<long> MaxNotificationIdAsync(StoreCommands db, CancellationToken cancellationToken) =>
        IdOrZero(await db.Prepare(_maxId).ExecuteScalarAsync(cancellationToken).ConfigureAwait(false));

    private static long IdOrZero(object? value) => value is null ? 0 : Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Notifications with ids in (after, upTo], only the given topics when not null: one range read on the primary key.</summary>
    public Notification[] ReadRange(StoreCommands db, long after, long upTo, IReadOnlyList<string>? topics)
    {
        PreparedCommand command;
        if (topics is null)
        {
            command = db.Prepare(_range, ("after", DbType.Int64), ("upto", DbType.Int64));
        }
        else
        {
            command = db.Prepare(RangeByTopics(topics.Count), RangeParameters(topics.Count));
            for (var i = 0; i < topics.Count; i++) command.Set(2 + i, topics[i]);
        }
        command.Set(0, after).Set(1, upTo);
        return ReadNotifications(command);
    }

    public Notification[] ReadAggregate(StoreCommands db, Guid id, long afterVersion) =>
        ReadNotifications(db.Prepare(_aggregate, ("id", DbType.Guid), ("after", DbType.Int64)).Set(0, id).Set(1, afterVersion));

    /// <summary>An aggregate's events after a version, read without blocking a thread.</summary>
    public async Task<Notification[]> ReadAggregateAsync(StoreCommands db, Guid id, long afterVersion, CancellationToken cancellationToken)
    {
        var command = db.Prepare(_aggregate, ("id", DbType.Guid), ("after", DbType.Int64)).Set(0, id).Set(1, afterVersion);
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            List<Notification>? list = null;
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) (list ??= []).Add(ReadOne(reader));
            return list is null ? [] : [.. list];
        }
    }

    public bool IsVersionTaken(StoreCommands db, Guid id, long version) =>
        db.Prepare(_aggregateTaken, ("id", DbType.Guid), ("version", DbType.Int64)).Set(0, id).Set(1, version).ExecuteScalar() is not null;

    public long? MinIdIn(StoreCommands db, long first, long last) =>
        db.Prepare(_minIdIn, ("first", DbType.Int64), ("last", DbType.Int64)).Set(0, first).Set(1, last).ExecuteScalar() is { } value
            ? Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture)
            : null;

    public long? StoredPosition(StoreCommands db, string upstream) =>
        db.Prepare(_position, ("upstream", DbType.String)).Set(0, upstream).ExecuteScalar() is { } value
            ? Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture)
            : null;

    public Dictionary<string, long> Positions(StoreCommands db)
    {
        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        using var reader = db.Prepare(_positions).ExecuteReader();
        while (reader.Read()) result[reader.GetString(0)] = reader.GetInt64(1);
        return result;
    }

    /// <summary>Moves a tracking position only if it is still the expected one; false when it is not.</summary>
    public bool MoveTracking(StoreCommands db, string upstream, long expected, long position)
    {
        var updated = db.Prepare(_moveTracking, ("position", DbType.Int64), ("upstream", DbType.String), ("expected", DbType.Int64))
            .Set(0, position).Set(1, upstream).Set(2, expected).ExecuteNonQuery();
        return updated == 1 || MovedFirst(db, upstream, expected, position);
    }

    /// <summary>
    /// The conditional tracking move of <see cref="MoveTracking"/> as a command of <paramref name="batch"/>
    /// (its <see cref="DbBatchCommand.RecordsAffected"/> is 1 when it moved); the caller adds it.
    /// </summary>
    public DbBatchCommand MoveTrackingCommand(DbBatch batch, TrackingUpdate tracking)
    {
        var command = batch.CreateBatchCommand();
        command.CommandText = _moveTracking;
        Add(command, "@position", DbType.Int64, tracking.Position);
        Add(command, "@upstream", DbType.String, tracking.Upstream);
        Add(command, "@expected", DbType.Int64, tracking.Expected);
        return command;

        static void Add(DbBatchCommand command, string name, DbType type, object value)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.DbType = type;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }
    }

    /// <summary>
    /// After a tracking move found no row at the expected position: inserts the follower's first row
    /// when it has none yet and expected none (true), or says the move conflicts (false).
    /// </summary>
    public bool MovedFirst(StoreCommands db, string upstream, long expected, long position)
    {
        if (expected != 0 || StoredPosition(db, upstream) is not null) return false;
        // The first step of a follower: no row yet. A racing first step makes this insert a unique
        // violation, which the append explains as the tracking conflict it is.
        db.Prepare(_insertTracking, ("upstream", DbType.String), ("position", DbType.Int64)).Set(0, upstream).Set(1, position).ExecuteNonQuery();
        return true;
    }

    public void Park(StoreCommands db, ParkedEvent parked) =>
        db.Prepare(_park, ("upstream", DbType.String), ("id", DbType.Int64), ("topic", DbType.String), ("type", DbType.String),
                ("message", DbType.String), ("attempts", DbType.Int32), ("at", DbType.Int64))
            .Set(0, parked.Upstream).Set(1, parked.NotificationId).Set(2, parked.Topic).Set(3, parked.ExceptionType)
            .Set(4, parked.Message).Set(5, parked.Attempts).Set(6, parked.ParkedAt.UtcTicks).ExecuteNonQuery();

    public List<ParkedEvent> Parked(StoreCommands db, string application)
    {
        var result = new List<ParkedEvent>();
        using var reader = db.Prepare(_parked).ExecuteReader();
        while (reader.Read())
            result.Add(new ParkedEvent(application, reader.GetString(0), reader.GetInt64(1), reader.GetString(2), reader.GetString(3),
                reader.GetString(4), reader.GetInt32(5), new DateTimeOffset(reader.GetInt64(6), TimeSpan.Zero)));
        return result;
    }

    public bool Unpark(StoreCommands db, string upstream, long id) =>
        db.Prepare(_unpark, ("upstream", DbType.String), ("id", DbType.Int64)).Set(0, upstream).Set(1, id).ExecuteNonQuery() > 0;

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, (string, DbType)[]> s_rangeParameters = new();

    /// <summary>The range read's parameters with <paramref name="count"/> topics (made once per count).</summary>
    private static (string, DbType)[] RangeParameters(int count) => s_rangeParameters.GetOrAdd(count, static n =>
        [("after", DbType.Int64), ("upto", DbType.Int64), .. Enumerable.Range(0, n).Select(i => ("t" + i, DbType.String))]);

    private string RangeByTopics(int count)
    {
        if (count < _rangeByTopicCount.Length && _rangeByTopicCount[count] is { } cached) return cached;
        var list = string.Join(", ", Enumerable.Range(0, count).Select(i => "@t" + i));
        var sql = $"SELECT {Columns} FROM {Tables.Events} WHERE notification_id > @after AND notification_id <= @upto AND topic IN ({list}) ORDER BY notification_id";
        if (count < _rangeByTopicCount.Length) _rangeByTopicCount[count] = sql;
        return sql;
    }

    private static Notification[] ReadNotifications(PreparedCommand command)
    {
        using var reader = command.ExecuteReader();
        List<Notification>? list = null;
        while (reader.Read()) (list ??= []).Add(ReadOne(reader));
        return list is null ? [] : [.. list];
    }

    private static Notification ReadOne(DbDataReader reader) => new(
        reader.GetInt64(0),
        reader.GetGuid(1),
        reader.GetInt64(2),
        reader.GetString(3),
        reader.GetFieldValue<byte[]>(4),
        reader.IsDBNull(5) ? 1 : reader.GetInt32(5),
        reader.IsDBNull(6) ? null : Metadata(reader.GetString(6), reader.GetInt64(0)));

    private static EventMetadata? Metadata(string json, long id)
    {
        try
        {
            return EventMetadata.FromJson(json);
        }
        catch (FormatException ex)
        {
            throw new FormatException($"Notification {id}: its metadata column is not event metadata ({ex.Message}).", ex);
        }
    }
}
