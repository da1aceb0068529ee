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
/// applications write in parallel and readers never block the writer.
/// </summary>
public sealed class SqlitePersistence : Persistence
{
    private static readonly IDataProvider s_provider = SQLiteTools.GetDataProvider(SQLiteProvider.Microsoft);
    private readonly bool _deleteOnDispose;

    internal SqlitePersistence(string directory, SqliteDurability durability, bool deleteOnDispose)
    {
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
    /// <remarks>
    /// <c>sqlite-normal:DIR</c> for <see cref="SqliteDurability.Normal"/>, <c>sqlite:DIR</c> (full durability)
    /// otherwise; null for <see cref="Persistence.InMemory"/>, whose files are deleted when it is disposed.
    /// </remarks>
    public override string? ShareableSpec => _deleteOnDispose ? null
        : (Durability == SqliteDurability.Normal ? "sqlite-normal:" : "sqlite:") + Directory;

    /// <summary>The database file of an application.</summary>
    public string DatabasePath(string application) =>
        Path.Combine(Directory, Identifiers.SnakeCase(application) + ".db");

    private string ConnectionString(string application) => new SqliteConnectionStringBuilder
    {
        DataSource = DatabasePath(application),
        Mode = SqliteOpenMode.ReadWriteCreate,
        Pooling = true,
        DefaultTimeout = 60,
    }.ToString();

    internal override DataConnection OpenWriter(string application)
    {
        var connection = new SqliteConnection(ConnectionString(application));
        connection.Open();
        using (var pragma = connection.CreateCommand())
        {
            var synchronous = Durability switch
            {
                SqliteDurability.Full => "FULL",
                SqliteDurability.Normal => "NORMAL",
                _ => "OFF",
            };
            pragma.CommandText = $"PRAGMA journal_mode=WAL; PRAGMA synchronous={synchronous}; PRAGMA busy_timeout=60000;";
            pragma.ExecuteNonQuery();
        }
        return new DataConnection(new DataOptions().UseConnection(s_provider, connection, disposeConnection: true));
    }

    internal override DataOptions ReadOptions(string application) =>
        new DataOptions().UseConnectionString(s_provider, ConnectionString(application));

    internal override void CreateTables(DataConnection db, string eventsTable, string trackingTable)
    {
        db.Execute($"""
            CREATE TABLE IF NOT EXISTS {eventsTable} (
                notification_id INTEGER PRIMARY KEY,
                originator_id BLOB NOT NULL,
                originator_version INTEGER NOT NULL,
                topic TEXT NOT NULL,
                state BLOB NOT NULL,
                timestamp INTEGER NOT NULL)
            """);
        db.Execute($"CREATE UNIQUE INDEX IF NOT EXISTS {eventsTable}_aggregate ON {eventsTable} (originator_id, originator_version)");
        db.Execute($"""
            CREATE TABLE IF NOT EXISTS {trackingTable} (
                upstream_application TEXT NOT NULL PRIMARY KEY,
                position INTEGER NOT NULL)
            """);
    }

    /// <inheritdoc/>
    /// <remarks>Unix-domain datagram sockets, one folder per store directory (none for <see cref="Persistence.InMemory"/>).</remarks>
    public override PromptTransport? CreatePromptTransport() =>
        _deleteOnDispose || !LocalSocketPrompts.IsSupported ? null : new LocalSocketPrompts("sqlite:" + Directory);

    internal override bool IsUniqueViolation(Exception exception) =>
        exception is SqliteException { SqliteErrorCode: 19 } sqlite &&
        (sqlite.SqliteExtendedErrorCode is 2067 or 1555);

    internal override bool IsNotificationIdViolation(Exception exception, string eventsTable) =>
        exception is SqliteException { SqliteErrorCode: 19, SqliteExtendedErrorCode: 1555 } sqlite &&
        sqlite.Message.Contains(eventsTable + ".notification_id", StringComparison.Ordinal);

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (!_deleteOnDispose) return;
        SqliteConnection.ClearAllPools();
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
