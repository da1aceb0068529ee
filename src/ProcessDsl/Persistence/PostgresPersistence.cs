using System.Collections.Concurrent;
using LinqToDB;
using LinqToDB.Data;
using LinqToDB.DataProvider;
using LinqToDB.DataProvider.PostgreSQL;
using Npgsql;

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
/// WAL flush (<c>fsync</c>) plus a few round trips per transaction. Batching many events into one
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
    private readonly ConcurrentDictionary<string, string?> _schemaByEventsTable = new(StringComparer.Ordinal);

    internal PostgresPersistence(string connectionString, PostgresOptions? options)
    {
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

    internal override DataConnection OpenWriter(string application)
    {
        var connection = DataSource(application).OpenConnection();
        return new DataConnection(new DataOptions().UseConnection(s_provider, connection, disposeConnection: true));
    }

    internal override DataOptions ReadOptions(string application)
    {
        var source = DataSource(application);
        return new DataOptions().UseConnectionFactory(s_provider, _ => source.CreateConnection());
    }

    internal override (string Events, string Tracking) TableNames(string application)
    {
        var names = base.TableNames(application);
        _schemaByEventsTable[names.Events] = SchemaOf(application);
        return names;
    }

    /// <summary>
    /// Creates the schema and tables if missing, under a transaction-scoped advisory lock so that
    /// processes starting at the same moment do not race on the catalog (concurrent
    /// <c>CREATE TABLE IF NOT EXISTS</c> of one name can otherwise fail with a unique violation).
    /// </summary>
    internal override void CreateTables(DataConnection db, string eventsTable, string trackingTable)
    {
        var schema = _schemaByEventsTable.TryGetValue(eventsTable, out var s) ? s : null;
        var prefix = schema is null ? "" : Quote(schema) + ".";
        using var transaction = db.BeginTransaction();
        db.Execute("SELECT pg_advisory_xact_lock(@key)", new DataParameter("key", DdlLockKey, DataType.Int64));
        if (schema is not null) db.Execute($"CREATE SCHEMA IF NOT EXISTS {Quote(schema)}");
        db.Execute($"""
            CREATE TABLE IF NOT EXISTS {prefix}{Quote(eventsTable)} (
                notification_id bigint NOT NULL PRIMARY KEY,
                originator_id uuid NOT NULL,
                originator_version bigint NOT NULL,
                topic text NOT NULL,
                state bytea NOT NULL,
                "timestamp" bigint NOT NULL,
                UNIQUE (originator_id, originator_version))
            """);
        db.Execute($"""
            CREATE TABLE IF NOT EXISTS {prefix}{Quote(trackingTable)} (
                upstream_application text NOT NULL PRIMARY KEY,
                "position" bigint NOT NULL)
            """);
        transaction.Commit();
    }

    /// <summary>
    /// <c>LOCK TABLE x_events IN EXCLUSIVE MODE</c>, held until the append commits: serialises id
    /// assignment per application across processes (see the remarks on <see cref="PostgresPersistence"/>).
    /// </summary>
    internal override void LockForAppend(DataConnection db, string eventsTable) =>
        db.Execute($"LOCK TABLE {Quote(Identifiers.ValidateSqlName(eventsTable, "Table name"))} IN EXCLUSIVE MODE");

    /// <summary>
    /// Sends the prompt <c>pg_notify(channel, 'Application:lastId')</c> in the append transaction:
    /// PostgreSQL delivers it at commit, and never for a rolled-back append.
    /// </summary>
    internal override void Appending(DataConnection db, string application, long lastNotificationId)
    {
        if (!Options.Notify) return;
        db.Execute("SELECT pg_notify(@channel, @payload)",
            new DataParameter("channel", Options.NotifyChannel, DataType.Text),
            new DataParameter("payload", PostgresPromptListener.Payload(application, lastNotificationId), DataType.Text));
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

    internal override bool IsUniqueViolation(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
            if (e is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation }) return true;
        return false;
    }

    internal override bool IsNotificationIdViolation(Exception exception, string eventsTable)
    {
        for (var e = exception; e is not null; e = e.InnerException)
            if (e is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } violation)
                return violation.ConstraintName == eventsTable + "_pkey";
        return false;
    }

    /// <summary>
    /// The server ended the session (<c>57P01</c> admin shutdown, <c>57P02</c> crash shutdown,
    /// <c>57P03</c> cannot connect now, class <c>08</c> connection exceptions), or the socket failed
    /// under Npgsql (an <see cref="NpgsqlException"/> that is not a server error: end of stream, reset).
    /// </summary>
    internal override bool IsBrokenConnection(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is PostgresException server)
                return server.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow
                    || server.SqlState.StartsWith("08", StringComparison.Ordinal);
            if (e is NpgsqlException { InnerException: IOException or System.Net.Sockets.SocketException or EndOfStreamException }) return true;
        }
        return false;
    }

    /// <summary>
    /// Creates a projection row table under the same advisory lock as <see cref="CreateTables"/>, in
    /// a transaction: processes creating the same table at the same moment take turns, and the second
    /// finds it there (<c>IF NOT EXISTS</c>) instead of failing on the catalog's unique index.
    /// </summary>
    internal override void CreateRowTable(DataConnection db, EventStore.WriteProgress progress, Action<DataConnection> create)
    {
        using var transaction = db.BeginTransaction();
        db.Execute("SELECT pg_advisory_xact_lock(@key)", new DataParameter("key", DdlLockKey, DataType.Int64));
        progress.Sent = true;
        create(db);
        transaction.Commit();
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        foreach (var source in _dataSources.Values) source.Dispose();
        _dataSources.Clear();
    }

    private NpgsqlDataSource DataSource(string application) =>
        _dataSources.GetOrAdd(ConnectionStringOf(application), NpgsqlDataSource.Create);

    /// <summary>Validated identifiers are lower-case letters, digits and underscores: quoting makes reserved words safe too.</summary>
    private static string Quote(string identifier) => "\"" + identifier + "\"";

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
        if (string.IsNullOrEmpty(builder.ApplicationName)) builder.ApplicationName = "processdsl";
        if (schema is not null) builder.SearchPath = Quote(schema);
        return builder.ConnectionString;
    }
}
