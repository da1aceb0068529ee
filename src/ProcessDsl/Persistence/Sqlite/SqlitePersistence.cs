using LinqToDB;
using LinqToDB.Data;
using LinqToDB.DataProvider;
using LinqToDB.DataProvider.SQLite;
using Microsoft.Data.Sqlite;

namespace ProcessDsl;

/// <summary>How hard SQLite works to keep a commit through a power cut.</summary>
public enum SqliteDurability
{
    /// <summary>
    /// <c>synchronous=FULL</c> (the default): a commit is on disk before it returns. A follower's
    /// tracking position in one file can then never outlive the upstream events it refers to in
    /// another file, whatever the crash.
    /// </summary>
    Full,

    /// <summary>
    /// <c>synchronous=NORMAL</c>: in WAL mode commits survive a process crash but the last ones may be
    /// lost in a power cut or OS crash, and then a follower's file may remember processing upstream
    /// events that its upstream's file lost. Faster; use only where that is acceptable.
    /// </summary>
    Normal,

    /// <summary><c>synchronous=OFF</c>: no fsync at all. For throwaway stores only.</summary>
    Off,
}

/// <summary>
/// The embedded store: one SQLite database file per application in one directory, in WAL mode, so
/// applications write in parallel and readers never block the writer. A processing step's
/// transaction is <c>BEGIN IMMEDIATE</c>: it holds the file's write lock from its first read, which
/// is what keeps ids contiguous across processes.
/// </summary>
public sealed class SqlitePersistence : Persistence
{
    private static readonly IDataProvider s_provider = SQLiteTools.GetDataProvider(SQLiteProvider.Microsoft);
    private readonly bool _deleteOnDispose;
    private readonly bool _inMemory;

    internal SqlitePersistence(string directory, SqliteDurability durability, bool deleteOnDispose, bool inMemory = false)
    {
        _inMemory = inMemory;
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        Directory = Path.GetFullPath(directory);
        Durability = durability;
        _deleteOnDispose = deleteOnDispose;
        System.IO.Directory.CreateDirectory(Directory);
    }

    /// <summary>The folder holding the database files.</summary>
    public string Directory { get; }

    /// <summary>The durability setting of every write connection.</summary>
    public SqliteDurability Durability { get; }

    /// <inheritdoc/>
    public override string Description => "sqlite:" + Directory;

    /// <inheritdoc/>
    /// <remarks><c>sqlite:DIR</c> or <c>sqlite-normal:DIR</c>; null for <see cref="Persistence.InMemory"/>, which no other process can see.</remarks>
    public override string? ShareableSpec => _deleteOnDispose
        ? null
        : Durability switch
        {
            SqliteDurability.Full => "sqlite:" + Directory,
            SqliteDurability.Normal => "sqlite-normal:" + Directory,
            _ => "sqlite-off:" + Directory,
        };

    /// <summary>The database file of an application.</summary>
    public string DatabasePath(string application) =>
        Path.Combine(Directory, Identifiers.SnakeCase(application) + ".db");

    private string ConnectionString(string application, SqliteOpenMode mode)
    {
        var builder = new SqliteConnectionStringBuilder { Pooling = true, DefaultTimeout = 60 };
        if (_inMemory)
        {
            // One shared-cache in-memory database per application, named after the folder (unique);
            // it lives while a connection to it is open (see MemoryRows).
            builder.DataSource = Path.GetFileName(Directory) + "-" + Identifiers.SnakeCase(application);
            builder.Mode = SqliteOpenMode.Memory;
            builder.Cache = SqliteCacheMode.Shared;
        }
        else
        {
            builder.DataSource = DatabasePath(application);
            builder.Mode = mode;
        }
        return builder.ToString();
    }

    /// <inheritdoc/>
    protected internal override DataConnection OpenConnection(string application, StoreConnectionKind kind)
    {
        var connection = new SqliteConnection(ConnectionString(application, kind == StoreConnectionKind.Writer ? SqliteOpenMode.ReadWriteCreate : SqliteOpenMode.ReadWrite));
        try
        {
            connection.Open();
            using var pragma = connection.CreateCommand();
            var synchronous = Durability switch
            {
                SqliteDurability.Full => "FULL",
                SqliteDurability.Normal => "NORMAL",
                _ => "OFF",
            };
            pragma.CommandText = kind == StoreConnectionKind.Writer && !_inMemory
                ? $"PRAGMA journal_mode=WAL; PRAGMA synchronous={synchronous}; PRAGMA busy_timeout=60000;"
                : "PRAGMA busy_timeout=60000;";
            pragma.ExecuteNonQuery();
            if (kind == StoreConnectionKind.Writer && !_inMemory && Durability == SqliteDurability.Full)
                PresizeWal(connection, DatabasePath(application));
        }
        catch
        {
            connection.Dispose();
            throw;
        }
        return new DataConnection(new DataOptions().UseConnection(s_provider, connection, disposeConnection: true));
    }

    /// <summary>
    /// The size a database's write-ahead log is given at open when it is smaller: a little more than
    /// SQLite's automatic checkpoint lets it reach (1,000 pages of 4 KB, each with its frame header).
    /// </summary>
    internal const long WalSize = 4_400_000;

    /// <summary>
    /// Gives the write-ahead log its working size before the first commit. SQLite appends every commit
    /// to the log until a checkpoint lets it start again from the beginning; while the file grows, a
    /// synced commit also makes the file system write the file's new blocks and size (on ext4 without
    /// a journal, a tenth of a cold orders run's disk requests, docs/benchmarks.md), and after a
    /// checkpoint commits overwrite what is there. So the log is grown once, in
    /// a transaction that writes that much (spilled to the log: its cache is kept small) and is rolled
    /// back, which leaves the file at that size and the database as it was; then the file is synced
    /// once. Only an optimisation: when the database is busy or anything fails, the log grows as usual.
    /// </summary>
    internal static void PresizeWal(SqliteConnection connection, string databasePath)
    {
        var wal = databasePath + "-wal";
        var info = new FileInfo(wal);
        if (info.Exists && info.Length >= WalSize) return;
        using var command = connection.CreateCommand();
        var cacheSize = Pragma(command, "cache_size");
        var busyTimeout = Pragma(command, "busy_timeout");
        // Hardly any wait for another writer of the file (another process opening it too): its
        // commits grow the log anyway. (Microsoft.Data.Sqlite retries a busy statement until the
        // command's timeout, in whole seconds.)
        command.CommandTimeout = 1;
        command.CommandText = "PRAGMA busy_timeout=0; PRAGMA cache_size=8";
        command.ExecuteNonQuery();
        try
        {
            command.CommandText = "BEGIN IMMEDIATE";
            command.ExecuteNonQuery();
            info.Refresh();
            if (!info.Exists || info.Length < WalSize)
            {
                command.CommandText = $"CREATE TABLE processdsl_wal_size (x BLOB); INSERT INTO processdsl_wal_size VALUES (zeroblob({WalSize}))";
                command.ExecuteNonQuery();
            }
        }
        catch (SqliteException)
        {
            // Busy, read-only, full: the log grows with the commits instead.
        }
        // Whatever got written is rolled back; a failure to roll back or to restore the settings fails the open.
        command.CommandText = "ROLLBACK";
        if (SQLitePCL.raw.sqlite3_get_autocommit(connection.Handle) == 0) command.ExecuteNonQuery();
        command.CommandText = FormattableString.Invariant($"PRAGMA cache_size={cacheSize}; PRAGMA busy_timeout={busyTimeout}");
        command.ExecuteNonQuery();
        try
        {
            using var file = new FileStream(wal, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
            file.Flush(flushToDisk: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // No log to sync (nothing was written) or no access to it: the first commit syncs it.
        }

        static long Pragma(SqliteCommand command, string name)
        {
            command.CommandText = "PRAGMA " + name;
            return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    /// <summary>
    /// With <see cref="SqliteDurability.Full"/>, the position write commits with <c>synchronous=NORMAL</c>:
    /// its WAL frames are written but not synced (the next full commit of the file syncs them too).
    /// SQLite only lets the level change outside a transaction, so it is set before <c>BEGIN</c>.
    /// </summary>
    protected internal override void BeginPositionWrite(StoreCommands commands)
    {
        ArgumentNullException.ThrowIfNull(commands);
        if (RelaxesPositionWrites) commands.Prepare("PRAGMA synchronous=NORMAL").ExecuteNonQuery();
        commands.Db.BeginTransaction();
    }

    /// <summary>Puts <c>synchronous=FULL</c> back after a position write.</summary>
    protected internal override void EndPositionWrite(StoreCommands commands)
    {
        ArgumentNullException.ThrowIfNull(commands);
        if (RelaxesPositionWrites) commands.Prepare("PRAGMA synchronous=FULL").ExecuteNonQuery();
    }

    private bool RelaxesPositionWrites => Durability == SqliteDurability.Full && !_inMemory;

    /// <inheritdoc/>
    protected internal override DataOptions QueryOptions(string application) =>
        new DataOptions().UseConnectionString(s_provider, ConnectionString(application, SqliteOpenMode.ReadWrite));

    /// <inheritdoc/>
    protected internal override void CreateTables(DataConnection db, StoreTables tables)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(tables);
        db.Execute($"""
            CREATE TABLE IF NOT EXISTS {tables.Events} (
                notification_id INTEGER PRIMARY KEY,
                originator_id BLOB NOT NULL,
                originator_version INTEGER NOT NULL,
                topic TEXT NOT NULL,
                state BLOB NOT NULL,
                "timestamp" INTEGER NOT NULL,
                version INTEGER NOT NULL DEFAULT 1,
                metadata TEXT NULL)
            """);
        // Tables made before event versions existed: their events are version 1. Tables made before
        // metadata existed: their events have none.
        if (db.Execute<long>($"SELECT COUNT(*) FROM pragma_table_info('{tables.EventsName}') WHERE name = 'version'") == 0)
            db.Execute($"ALTER TABLE {tables.Events} ADD COLUMN version INTEGER NOT NULL DEFAULT 1");
        if (db.Execute<long>($"SELECT COUNT(*) FROM pragma_table_info('{tables.EventsName}') WHERE name = 'metadata'") == 0)
            db.Execute($"ALTER TABLE {tables.Events} ADD COLUMN metadata TEXT NULL");
        db.Execute($"CREATE UNIQUE INDEX IF NOT EXISTS \"{tables.EventsName}_aggregate\" ON {tables.Events} (originator_id, originator_version)");
        db.Execute($"""
            CREATE TABLE IF NOT EXISTS {tables.Tracking} (
                upstream_application TEXT NOT NULL PRIMARY KEY,
                "position" INTEGER NOT NULL)
            """);
        db.Execute($"""
            CREATE TABLE IF NOT EXISTS {tables.Parked} (
                upstream_application TEXT NOT NULL,
                notification_id INTEGER NOT NULL,
                topic TEXT NOT NULL,
                exception_type TEXT NOT NULL,
                message TEXT NOT NULL,
                attempts INTEGER NOT NULL,
                parked_at INTEGER NOT NULL,
                PRIMARY KEY (upstream_application, notification_id))
            """);
    }

    /// <inheritdoc/>
    /// <remarks>16-byte BLOBs, as LinqToDB writes them (Microsoft.Data.Sqlite would otherwise write TEXT).</remarks>
    protected internal override System.Data.DbType GuidParameterType => System.Data.DbType.Binary;

    /// <inheritdoc/>
    protected internal override StoreFault Classify(Exception exception, StoreTables tables) => SqliteFaults.Classify(exception, tables);

    /// <inheritdoc/>
    /// <remarks>Unix-domain datagram sockets, one folder per store directory (none for <see cref="Persistence.InMemory"/>).</remarks>
    public override PromptTransport? CreatePromptTransport() =>
        _deleteOnDispose || !LocalSocketPrompts.IsSupported ? null : new LocalSocketPrompts("sqlite:" + Directory);

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        SqliteConnection.ClearAllPools();
        if (!_deleteOnDispose) return;
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still open elsewhere: the temporary folder is left for the OS to clean.
        }
    }
}
