using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using LinqToDB;
using LinqToDB.Data;
using LinqToDB.DataProvider;
using LinqToDB.DataProvider.PostgreSQL;
using LinqToDB.Mapping;
using Npgsql;
using NpgsqlTypes;

namespace ProcessDsl;

/// <summary>
/// The server store: every application's tables in PostgreSQL (through Npgsql's connection pool),
/// optionally each application in its own schema or database. Many processes on many machines may
/// write and follow through one server.
/// </summary>
/// <remarks>
/// <para>
/// <b>Contiguous notification ids.</b> Each append transaction takes
/// <c>LOCK TABLE x_events IN EXCLUSIVE MODE</c> before it reads the newest id, and holds it until it
/// commits. Writers of one application are therefore serialised from the lock to the commit, across
/// all processes: ids are assigned 1, 2, 3, ... without gaps (nothing is ever rolled back after taking
/// an id, unlike a sequence) and become visible in commit order, so a reader that has seen id n never
/// later finds an id below n appear. The lock does not block readers (plain <c>SELECT</c> takes
/// <c>ACCESS SHARE</c>), and other applications' tables are not affected.
/// </para>
/// <para>
/// <b>Cost.</b> An application's write throughput is bounded by one commit at a time: roughly one
/// WAL flush (<c>fsync</c>) plus two round trips per transaction (the append as one batch of statements,
/// see <see cref="AppendAtOnce"/>, and its commit). Batching many events into one
/// save or one processing step amortises that; more writers of the same application do not add
/// throughput, while different applications write in parallel. See <c>docs/postgres.md</c>.
/// </para>
/// </remarks>
public sealed class PostgresPersistence : Persistence
{
    /// <summary>The advisory lock key taken around table creation (any constant shared by all processes).</summary>
    private const long DdlLockKey = 0x5044534C5F44444C; // "PDSL_DDL"

    private static readonly IDataProvider s_provider = PostgreSQLTools.GetDataProvider(PostgreSQLVersion.v15);

    private readonly string _connectionString;
    private readonly ConcurrentDictionary<string, NpgsqlDataSource> _dataSources = new(StringComparer.Ordinal);

    /// <summary>Opens the store (nothing connects until first use); <c>Persistence.Postgres(...)</c> says the same.</summary>
    /// <exception cref="ArgumentException">The connection string is not valid, names no host, or an option names a bad identifier.</exception>
    /// <exception cref="NotSupportedException">The program is published with Native AOT (see <c>docs/aot.md</c>).</exception>
    public PostgresPersistence(string connectionString, PostgresOptions? options = null)
    {
        // Before anything touches the provider (its type initializer would fail with a less clear error).
        if (!RuntimeFeature.IsDynamicCodeSupported)
            throw new NotSupportedException(
                "PostgreSQL stores do not run under Native AOT yet: LinqToDB's PostgreSQL provider builds expression types at run time, " +
                "which a native program cannot create. Run this program on the JIT (or published ReadyToRun), or use a SQLite or memory store (docs/aot.md).");
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        Options = options ?? new PostgresOptions();
        _connectionString = Prepare(connectionString, schema: null);
        if (Options.Schema is not null) Identifiers.ValidateSqlName(Options.Schema, "Schema name");
        Identifiers.ValidateSqlName(Options.NotifyChannel, "Notify channel");
        foreach (var (application, schema) in Options.Schemas)
        {
            Identifiers.ValidateApplicationName(application);
            Identifiers.ValidateSqlName(schema, "Schema name");
        }
        foreach (var (application, other) in Options.ConnectionStrings)
        {
            Identifiers.ValidateApplicationName(application);
            _ = Prepare(other, schema: null);
        }
        var described = new NpgsqlConnectionStringBuilder(_connectionString);
        described.Remove("Password");
        Description = "postgres:" + described.ConnectionString;
    }

    /// <summary>The settings.</summary>
    public PostgresOptions Options { get; }

    /// <inheritdoc/>
    public override string Description { get; }

    /// <inheritdoc/>
    /// <remarks>
    /// <c>postgres:</c> and the full connection string, password included; null when
    /// <see cref="Options"/> set schemas, per-application connection strings or a channel a spec cannot carry.
    /// </remarks>
    public override string? ShareableSpec =>
        Options.Schema is null && Options.Schemas.Count == 0 && Options.ConnectionStrings.Count == 0 && Options.Notify && Options.NotifyChannel == new PostgresOptions().NotifyChannel
            ? "postgres:" + _connectionString
            : null;

    /// <summary>The schema an application's tables live in (null: the connection's <c>search_path</c>).</summary>
    public string? SchemaOf(string application)
    {
        Identifiers.ValidateApplicationName(application);
        return Options.Schemas.TryGetValue(application, out var schema) ? schema : Options.Schema;
    }

    /// <summary>
    /// The connection string an application's connections use: its own or the store's, with
    /// pooling on and <c>search_path</c> set to its schema when it has one.
    /// </summary>
    public string ConnectionStringOf(string application)
    {
        var schema = SchemaOf(application);
        var baseString = Options.ConnectionStrings.TryGetValue(application, out var own) ? own : _connectionString;
        return Prepare(baseString, schema);
    }

    /// <inheritdoc/>
    protected override DataConnection OpenConnection(string application, StoreConnectionKind kind)
    {
        var connection = DataSource(application).OpenConnection();
        return new DataConnection(new DataOptions().UseConnection(s_provider, connection, disposeConnection: true));
    }

    /// <inheritdoc/>
    protected override DataOptions QueryOptions(string application)
    {
        var source = DataSource(application);
        return new DataOptions().UseConnectionFactory(s_provider, _ => source.CreateConnection());
    }

    /// <inheritdoc/>
    protected override StoreTables TablesOf(string application) => base.TablesOf(application) with { Schema = SchemaOf(application) };

    /// <summary>
    /// Creates the schema and tables if missing, under a transaction-scoped advisory lock so that
    /// processes starting at the same moment do not race on the catalog (concurrent
    /// <c>CREATE TABLE IF NOT EXISTS</c> of one name can otherwise fail with a unique violation).
    /// </summary>
    protected override void CreateTables(DataConnection db, StoreTables tables)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(tables);
        using var transaction = db.BeginTransaction();
        db.Execute("SELECT pg_advisory_xact_lock(@key)", new DataParameter("key", DdlLockKey, DataType.Int64));
        if (tables.Schema is not null) db.Execute($"CREATE SCHEMA IF NOT EXISTS {Quote(tables.Schema)}");
        db.Execute($"""
            CREATE TABLE IF NOT EXISTS {tables.Events} (
                notification_id bigint NOT NULL PRIMARY KEY,
                originator_id uuid NOT NULL,
                originator_version bigint NOT NULL,
                topic text NOT NULL,
                state bytea NOT NULL,
                "timestamp" bigint NOT NULL,
                version integer NOT NULL DEFAULT 1,
                metadata text NULL,
                UNIQUE (originator_id, originator_version))
            """);
        // Tables made before event versions existed: their events are version 1. Tables made before
        // metadata existed: their events have none.
        db.Execute($"ALTER TABLE {tables.Events} ADD COLUMN IF NOT EXISTS version integer NOT NULL DEFAULT 1");
        db.Execute($"ALTER TABLE {tables.Events} ADD COLUMN IF NOT EXISTS metadata text NULL");
        db.Execute($"""
            CREATE TABLE IF NOT EXISTS {tables.Tracking} (
                upstream_application text NOT NULL PRIMARY KEY,
                "position" bigint NOT NULL)
            """);
        db.Execute($"""
            CREATE TABLE IF NOT EXISTS {tables.Parked} (
                upstream_application text NOT NULL,
                notification_id bigint NOT NULL,
                topic text NOT NULL,
                exception_type text NOT NULL,
                message text NOT NULL,
                attempts integer NOT NULL,
                parked_at bigint NOT NULL,
                PRIMARY KEY (upstream_application, notification_id))
            """);
        transaction.Commit();
    }

    /// <summary>
    /// The position write commits with <c>SET LOCAL synchronous_commit = off</c>: the server
    /// acknowledges it before its WAL is flushed (within a few hundred milliseconds, and with any
    /// later durable commit, as the WAL is written in order).
    /// </summary>
    protected override void BeginPositionWrite(StoreCommands commands)
    {
        ArgumentNullException.ThrowIfNull(commands);
        commands.Db.BeginTransaction();
        commands.Prepare("SET LOCAL synchronous_commit TO OFF").ExecuteNonQuery();
    }

    /// <summary>
    /// <c>LOCK TABLE x_events IN EXCLUSIVE MODE</c>, held until the append commits: serialises id
    /// assignment per application across processes (see the remarks on <see cref="PostgresPersistence"/>).
    /// </summary>
    protected override string? AppendLockSql(StoreTables tables)
    {
        ArgumentNullException.ThrowIfNull(tables);
        return $"LOCK TABLE {tables.Events} IN EXCLUSIVE MODE";
    }

    /// <summary>All the events of an append in one statement and one round trip: arrays of each column, unnested.</summary>
    protected override void InsertEvents(StoreCommands commands, StoreTables tables, IReadOnlyList<StoredEvent> events) =>
        BindInsert(commands, tables, events).ExecuteNonQuery();

    /// <summary>As <see cref="InsertEvents"/>, without blocking a thread while the server works.</summary>
    protected override async ValueTask InsertEventsAsync(StoreCommands commands, StoreTables tables, IReadOnlyList<StoredEvent> events, CancellationToken cancellationToken) =>
        await BindInsert(commands, tables, events).ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);

    private static PreparedCommand BindInsert(StoreCommands commands, StoreTables tables, IReadOnlyList<StoredEvent> events)
    {
        ArgumentNullException.ThrowIfNull(commands);
        ArgumentNullException.ThrowIfNull(tables);
        ArgumentNullException.ThrowIfNull(events);
        var insert = commands.Prepare(
            $"INSERT INTO {tables.Events} (notification_id, originator_id, originator_version, topic, state, \"timestamp\", version, metadata) " +
            "SELECT * FROM unnest(@ids, @originators, @versions, @topics, @states, @timestamps, @v, @metadata)",
            command =>
            {
                command.Parameters.Add(new NpgsqlParameter("ids", NpgsqlDbType.Array | NpgsqlDbType.Bigint));
                foreach (var (name, type) in s_columns) command.Parameters.Add(new NpgsqlParameter(name, type));
            });
        var ids = new long[events.Count];
        for (var i = 0; i < ids.Length; i++) ids[i] = events[i].NotificationId;
        insert.Set(0, ids);
        var columns = ColumnsOf(events);
        for (var i = 0; i < columns.Length; i++) insert.Set(1 + i, columns[i]);
        return insert;
    }

    /// <summary>The parameters of an event insert after the id: each an array of one column, unnested in this order.</summary>
    private static readonly (string Name, NpgsqlDbType Type)[] s_columns =
    [
        ("originators", NpgsqlDbType.Array | NpgsqlDbType.Uuid),
        ("versions", NpgsqlDbType.Array | NpgsqlDbType.Bigint),
        ("topics", NpgsqlDbType.Array | NpgsqlDbType.Text),
        ("states", NpgsqlDbType.Array | NpgsqlDbType.Bytea),
        ("timestamps", NpgsqlDbType.Array | NpgsqlDbType.Bigint),
        ("v", NpgsqlDbType.Array | NpgsqlDbType.Integer),
        ("metadata", NpgsqlDbType.Array | NpgsqlDbType.Text),
    ];

    /// <summary>The values of <see cref="s_columns"/> for these events.</summary>
    private static object[] ColumnsOf(IReadOnlyList<StoredEvent> events)
    {
        var n = events.Count;
        var originators = new Guid[n];
        var versions = new long[n];
        var topics = new string[n];
        var states = new byte[n][];
        var timestamps = new long[n];
        var classVersions = new int[n];
        var metadata = new string?[n];
        for (var i = 0; i < n; i++)
        {
            var e = events[i];
            originators[i] = e.OriginatorId;
            versions[i] = e.OriginatorVersion;
            topics[i] = e.Topic;
            states[i] = e.State;
            timestamps[i] = e.Timestamp;
            classVersions[i] = e.Version;
            metadata[i] = e.Metadata;
        }
        return [originators, versions, topics, states, timestamps, classVersions, metadata];
    }

    /// <summary>
    /// The whole append in one round trip, as one batch of statements: the tracking move (when a step
    /// has one), <c>LOCK TABLE x_events IN EXCLUSIVE MODE</c>, the read of the newest id, then one
    /// statement that inserts the events (arrays of each column, unnested) with the ids after the
    /// newest and sends the prompt. Its commit is the only other round trip of the append; one
    /// statement at a time it took five, each inside the lock that serialises the application's writers.
    /// </summary>
    /// <remarks>
    /// Each statement of the batch runs after the one before it (one transaction, one snapshot per
    /// statement), so the newest id is read under the lock exactly as a separate read would be, and
    /// the insert numbers its events from the same newest id. A failure of any statement skips the
    /// rest and leaves the transaction to be rolled back. The read of the newest id is the first
    /// statement to return rows: once its result arrives, the append is <see cref="WriteProgress.Sent"/>.
    /// </remarks>
    protected override AppendedAtOnce? AppendAtOnce(StoreCommands commands, StoreTables tables, string application, TrackingUpdate? tracking, IReadOnlyList<StoredEvent> events, WriteProgress progress)
    {
        ArgumentNullException.ThrowIfNull(progress);
        using var batch = BindAppend(commands, tables, application, tracking, events);
        long newest, numbered;
        using (var reader = batch.ExecuteReader())
        {
            // Here the tracking move, the lock and the read of the newest id have run.
            progress.Sent = true;
            newest = Newest(reader, tables);
            progress.FirstId = newest + 1;
            numbered = reader.NextResult() ? Newest(reader, tables) : -1;
            while (reader.NextResult())
            {
            }
        }
        return Appended(batch, tracking, newest, numbered, tables);
    }

    /// <inheritdoc cref="AppendAtOnce"/>
    protected override async ValueTask<AppendedAtOnce?> AppendAtOnceAsync(StoreCommands commands, StoreTables tables, string application, IReadOnlyList<StoredEvent> events, WriteProgress progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(progress);
        var batch = BindAppend(commands, tables, application, tracking: null, events);
        await using (batch.ConfigureAwait(false))
        {
            long newest, numbered;
            var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                progress.Sent = true;
                newest = await NewestAsync(reader, tables, cancellationToken).ConfigureAwait(false);
                progress.FirstId = newest + 1;
                numbered = await reader.NextResultAsync(cancellationToken).ConfigureAwait(false) ? await NewestAsync(reader, tables, cancellationToken).ConfigureAwait(false) : -1;
                while (await reader.NextResultAsync(cancellationToken).ConfigureAwait(false))
                {
                }
            }
            return Appended(batch, tracking: null, newest, numbered, tables);
        }
    }

    /// <summary>True: a command's save is one round trip, its <c>BEGIN</c> and <c>COMMIT</c> included (<see cref="AppendCommittedAsync"/>).</summary>
    protected override bool AppendsCommitted => true;

    /// <summary>
    /// <see cref="AppendCommittedAsync"/>, the calling thread waiting. Npgsql writes a batch of several
    /// statements executed synchronously through a scheduler of its own on the thread pool (one slot
    /// per two processors); executed asynchronously, the calling thread writes it.
    /// </summary>
    protected override long AppendCommitted(StoreCommands commands, StoreTables tables, string application, IReadOnlyList<StoredEvent> events, WriteProgress progress) =>
        AppendCommittedAsync(commands, tables, application, events, progress, CancellationToken.None).GetAwaiter().GetResult();

    /// <summary>
    /// <c>BEGIN</c>, <c>LOCK TABLE x_events IN EXCLUSIVE MODE</c>, the read of the newest id, the insert
    /// (with its prompt) and <c>COMMIT</c>, in one batch: one round trip per save instead of two, and
    /// the lock held from the server's first statement to its commit with no wait for this process in
    /// between.
    /// </summary>
    /// <remarks>
    /// How far a failed batch got is read from which statements' replies arrived (each statement's
    /// <see cref="NpgsqlBatchCommand.StatementType"/> is set when its reply is read): none, and the
    /// server's error came first (a connection it closed while idle): nothing ran. <c>BEGIN</c>'s,
    /// and the server refused a statement before the insert's reply: nothing is committed; the
    /// transaction is rolled back here. The insert's, without <c>COMMIT</c>'s, or no reply and no
    /// error from the server: unknown. <c>COMMIT</c>'s: the save stands, whatever fails after it.
    /// </remarks>
    protected override async Task<long> AppendCommittedAsync(StoreCommands commands, StoreTables tables, string application, IReadOnlyList<StoredEvent> events, WriteProgress progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(commands);
        ArgumentNullException.ThrowIfNull(progress);
        var connection = (NpgsqlConnection)commands.Db.OpenDbConnection();
        var batch = BindAppend(commands, tables, application, tracking: null, events);
        await using (batch.ConfigureAwait(false))
        {
            var begin = new NpgsqlBatchCommand("BEGIN");
            var commit = new NpgsqlBatchCommand("COMMIT");
            var insert = batch.BatchCommands[^1];
            batch.BatchCommands.Insert(0, begin);
            batch.BatchCommands.Add(commit);
            long newest, numbered = -1;
            try
            {
                // Once sent, the batch runs to its end or its first error: it is not cancelled.
                var reader = await batch.ExecuteReaderAsync(CancellationToken.None).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    newest = await NewestAsync(reader, tables, CancellationToken.None).ConfigureAwait(false);
                    progress.FirstId = newest + 1;
                    if (await reader.NextResultAsync(CancellationToken.None).ConfigureAwait(false))
                        numbered = await NewestAsync(reader, tables, CancellationToken.None).ConfigureAwait(false);
                    while (await reader.NextResultAsync(CancellationToken.None).ConfigureAwait(false))
                    {
                    }
                }
            }
            catch (Exception) when (Answered(commit) && numbered >= 0)
            {
                // The connection failed after COMMIT's reply: the save stands. The store finds the
                // connection broken at its next use.
                return numbered;
            }
            catch (Exception ex)
            {
                progress.Sent = Answered(begin);
                if (ex is not PostgresException || Answered(insert))
                {
                    progress.Sent = true;
                    progress.OutcomeUnknown = true;
                }
                else if (progress.Sent && connection.State == System.Data.ConnectionState.Open)
                {
                    // The server refused a statement: the rest, COMMIT included, was skipped. End the
                    // failed transaction so the connection can serve the next save.
                    try
                    {
                        await using var rollback = new NpgsqlCommand("ROLLBACK", connection);
                        await rollback.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
                    }
                    catch (NpgsqlException)
                    {
                        // Broken as well: the server ends the transaction itself.
                    }
                }
                throw;
            }
            // The insert numbered its events after the newest id it read under the lock; the read
            // before it, under the same lock, found the same (both are kept for a failure's message).
            return numbered >= 0 ? numbered : newest;
        }
    }

    /// <summary>Whether the reply to this statement of a batch has been read.</summary>
    private static bool Answered(NpgsqlBatchCommand command) => command.StatementType != StatementType.Unknown;

    private static long Newest(NpgsqlDataReader reader, StoreTables tables) =>
        reader.Read() ? reader.GetInt64(0) : throw NoNewest(tables);

    private static async Task<long> NewestAsync(NpgsqlDataReader reader, StoreTables tables, CancellationToken cancellationToken) =>
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? reader.GetInt64(0) : throw NoNewest(tables);

    private static InvalidOperationException NoNewest(StoreTables tables) =>
        new($"The append to {tables.Events} returned no newest notification id.");

    private static AppendedAtOnce Appended(NpgsqlBatch batch, TrackingUpdate? tracking, long newest, long numbered, StoreTables tables)
    {
        // Both reads ran under the lock, so they agree; if they do not, the lock did not hold.
        if (numbered != newest)
            throw new InvalidOperationException(
                $"The append to {tables.Events} read {newest} as the newest notification id and then numbered its events after {numbered}: " +
                "the lock that serialises id assignment did not hold.");
        return new AppendedAtOnce(newest, tracking is null || batch.BatchCommands[0].RecordsAffected == 1);
    }

    /// <summary>
    /// The append's batch on this writer connection, with its values. A new batch each time: with
    /// Npgsql 10.0.3, executing one batch again with new array values broke the connection. The server
    /// still runs prepared statements: Npgsql prepares a statement text after a few uses on a
    /// connection (<c>Max Auto Prepare</c>).
    /// </summary>
    private NpgsqlBatch BindAppend(StoreCommands commands, StoreTables tables, string application, TrackingUpdate? tracking, IReadOnlyList<StoredEvent> events)
    {
        ArgumentNullException.ThrowIfNull(commands);
        ArgumentNullException.ThrowIfNull(tables);
        ArgumentNullException.ThrowIfNull(events);
        var sql = _appendSql.GetOrAdd(tables, static (t, notify) => AppendSql(t, notify), Options.Notify);
        var batch = new NpgsqlBatch((NpgsqlConnection)commands.Db.OpenDbConnection()) { Transaction = (NpgsqlTransaction?)commands.Db.Transaction };
        if (tracking is not null)
        {
            var move = new NpgsqlBatchCommand(sql.MoveTracking);
            move.Parameters.Add(new NpgsqlParameter("position", NpgsqlDbType.Bigint) { Value = tracking.Position });
            move.Parameters.Add(new NpgsqlParameter("upstream", NpgsqlDbType.Text) { Value = tracking.Upstream });
            move.Parameters.Add(new NpgsqlParameter("expected", NpgsqlDbType.Bigint) { Value = tracking.Expected });
            batch.BatchCommands.Add(move);
        }
        batch.BatchCommands.Add(new NpgsqlBatchCommand(sql.Lock));
        batch.BatchCommands.Add(new NpgsqlBatchCommand(sql.Newest));
        var insert = new NpgsqlBatchCommand(sql.Insert);
        var columns = ColumnsOf(events);
        for (var i = 0; i < s_columns.Length; i++) insert.Parameters.Add(new NpgsqlParameter(s_columns[i].Name, s_columns[i].Type) { Value = columns[i] });
        if (Options.Notify)
        {
            insert.Parameters.Add(new NpgsqlParameter("channel", NpgsqlDbType.Text) { Value = Options.NotifyChannel });
            insert.Parameters.Add(new NpgsqlParameter("prefix", NpgsqlDbType.Text) { Value = application + ":" });
            insert.Parameters.Add(new NpgsqlParameter("count", NpgsqlDbType.Bigint) { Value = (long)events.Count });
        }
        batch.BatchCommands.Add(insert);
        return batch;
    }

    private readonly ConcurrentDictionary<StoreTables, AppendStatements> _appendSql = new();

    /// <summary>The statements of <see cref="AppendAtOnce"/> for one application's tables, built once.</summary>
    private sealed record AppendStatements(string MoveTracking, string Lock, string Newest, string Insert);

    private static AppendStatements AppendSql(StoreTables tables, bool notify) => new(
        $"UPDATE {tables.Tracking} SET \"position\" = @position WHERE upstream_application = @upstream AND \"position\" = @expected",
        $"LOCK TABLE {tables.Events} IN EXCLUSIVE MODE",
        $"SELECT COALESCE(MAX(notification_id), 0) FROM {tables.Events}",
        $"WITH newest AS (SELECT COALESCE(MAX(notification_id), 0) AS id FROM {tables.Events}), " +
        $"stored AS (INSERT INTO {tables.Events} (notification_id, originator_id, originator_version, topic, state, \"timestamp\", version, metadata) " +
        "SELECT newest.id + e.n, e.originator_id, e.originator_version, e.topic, e.state, e.ts, e.version, e.metadata " +
        "FROM newest, unnest(@originators, @versions, @topics, @states, @timestamps, @v, @metadata) " +
        "WITH ORDINALITY AS e(originator_id, originator_version, topic, state, ts, version, metadata, n)) " +
        (notify ? "SELECT newest.id, pg_notify(@channel, @prefix || (newest.id + @count)::text) FROM newest" : "SELECT newest.id FROM newest"));

    /// <summary>
    /// Sends the prompt <c>pg_notify(channel, 'Application:lastId')</c> in the append transaction:
    /// PostgreSQL delivers it at commit, and never for a rolled-back append.
    /// </summary>
    protected override void Appending(StoreCommands commands, string application, long lastNotificationId) =>
        Prompt(commands, application, lastNotificationId)?.ExecuteNonQuery();

    /// <summary>As <see cref="Appending"/>, without blocking a thread while the server works.</summary>
    protected override async ValueTask AppendingAsync(StoreCommands commands, string application, long lastNotificationId, CancellationToken cancellationToken)
    {
        if (Prompt(commands, application, lastNotificationId) is { } prompt) await prompt.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private PreparedCommand? Prompt(StoreCommands commands, string application, long lastNotificationId)
    {
        ArgumentNullException.ThrowIfNull(commands);
        if (!Options.Notify) return null;
        return commands.Prepare("SELECT pg_notify(@channel, @payload)", ("channel", System.Data.DbType.String), ("payload", System.Data.DbType.String))
            .Set(0, Options.NotifyChannel).Set(1, PostgresPromptListener.Payload(application, lastNotificationId));
    }

    /// <summary>
    /// A listener for the prompts of the applications stored in <paramref name="application"/>'s
    /// database (NOTIFY reaches the listeners of one database), on this store's channel. Start it
    /// with <see cref="PostgresPromptListener.Start"/>; it reconnects by itself.
    /// </summary>
    public PostgresPromptListener CreatePromptListener(string application) =>
        new(ConnectionStringOf(application), Options.NotifyChannel);

    /// <summary>
    /// Prompts between processes and machines over <c>LISTEN/NOTIFY</c> on
    /// <see cref="PostgresOptions.NotifyChannel"/> (see <see cref="PostgresPromptListener"/>).
    /// </summary>
    public override PromptTransport? CreatePromptTransport() => new PostgresPromptTransport(this);

    /// <inheritdoc/>
    protected override StoreFault Classify(Exception exception, StoreTables tables) => PostgresFaults.Classify(exception, tables);

    /// <summary>
    /// Creates a projection row table inside the step's transaction under the same advisory lock as
    /// <see cref="CreateTables"/>: processes creating the same table at the same moment take turns,
    /// and the second finds it there (<c>IF NOT EXISTS</c>) instead of failing on the catalog's unique index.
    /// </summary>
    protected override void CreateRowTable(DataConnection db, Action<DataConnection> create)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(create);
        db.Execute("SELECT pg_advisory_xact_lock(@key)", new DataParameter("key", DdlLockKey, DataType.Int64));
        create(db);
    }

    /// <summary>
    /// Many projection rows of one type as one statement of arrays, unnested by the server: one
    /// parameter per column, and the same text for any number of rows (prepared once per connection).
    /// </summary>
    protected override bool BindRowArrays(DataConnection db, System.Data.Common.DbBatchCommand command, string insertInto, IReadOnlyList<ColumnDescriptor> columns, IReadOnlyList<object> rows, string onConflict)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(rows);
        return PostgresRowArrays.Bind(db, command, insertInto, columns, rows, onConflict);
    }

    /// <summary>
    /// True: <c>INSERT ... ON CONFLICT</c> looks each key up in the unique index before it inserts,
    /// and a plain insert of a new key does not, so runs of rows go as plain inserts first (see
    /// <see cref="Persistence.InsertsNewRowsFirst"/>).
    /// </summary>
    protected override bool InsertsNewRowsFirst => true;

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        foreach (var source in _dataSources.Values) source.Dispose();
        _dataSources.Clear();
    }

    private NpgsqlDataSource DataSource(string application) =>
        _dataSources.GetOrAdd(ConnectionStringOf(application), NpgsqlDataSource.Create);

    /// <summary>Validated identifiers are lower-case letters, digits and underscores: quoting makes reserved words safe too.</summary>
    private static string Quote(string identifier) => "\"" + Identifiers.ValidateSqlName(identifier, "Identifier") + "\"";

    private static string Prepare(string connectionString, string? schema)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException($"Not a valid PostgreSQL connection string: {ex.Message}", nameof(connectionString), ex);
        }
        if (string.IsNullOrEmpty(builder.Host))
            throw new ArgumentException("The PostgreSQL connection string names no Host.", nameof(connectionString));
        builder.Pooling = true;
        // Statements the library runs again and again are prepared on the server once per connection.
        if (builder.MaxAutoPrepare == 0) builder.MaxAutoPrepare = 64;
        if (string.IsNullOrEmpty(builder.ApplicationName)) builder.ApplicationName = "processdsl";
        if (schema is not null) builder.SearchPath = Quote(schema);
        return builder.ConnectionString;
    }
}
