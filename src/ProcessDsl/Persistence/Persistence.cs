using System.Collections.Concurrent;
using LinqToDB;
using LinqToDB.Data;

namespace ProcessDsl;

/// <summary>
/// Where applications store their events, tracking records and projection rows. Choose one with
/// <see cref="Sqlite"/> (embedded, the default), <see cref="InMemory"/> (throwaway) or a server store.
/// One instance serves every application of a system; dispose it after the runner.
/// </summary>
public abstract class Persistence : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<EventStore>> _stores = new(StringComparer.Ordinal);
    private int _disposed;

    /// <summary>
    /// SQLite in <paramref name="directory"/>: one database file per application
    /// (<c>orders.db</c>, ...), WAL mode, <c>synchronous=FULL</c> unless
    /// <paramref name="durability"/> says otherwise.
    /// </summary>
    public static SqlitePersistence Sqlite(string directory, SqliteDurability durability = SqliteDurability.Full) =>
        new(directory, durability, deleteOnDispose: false);

    /// <summary>PostgreSQL at <paramref name="connectionString"/> (an Npgsql connection string), pooled; see <see cref="PostgresPersistence"/>.</summary>
    public static PostgresPersistence Postgres(string connectionString, PostgresOptions? options = null) =>
        new(connectionString, options);

    /// <summary>
    /// A throwaway store for tests and demos: SQLite files in a new temporary folder (on a
    /// memory-backed file system where the machine has one), without fsync, deleted on dispose.
    /// </summary>
    public static SqlitePersistence InMemory()
    {
        var root = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        var directory = Path.Combine(root, "processdsl-" + Guid.NewGuid().ToString("N"));
        return new SqlitePersistence(directory, SqliteDurability.Off, deleteOnDispose: true);
    }

    /// <summary>A short description of the store for logs, e.g. <c>sqlite:/data</c>.</summary>
    public abstract string Description { get; }

    /// <summary>
    /// A store spec, as <see cref="StoreSpec.Open"/> reads it, that opens this same store in another
    /// process (what the <see cref="MultiprocessRunner"/> gives its workers), or null when the store
    /// cannot be shared. It may hold secrets (a password): never log it or put it on a command line.
    /// </summary>
    public virtual string? ShareableSpec => null;

    /// <summary>The event store of one application, created (with its tables) on first use.</summary>
    internal EventStore Store(string application)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        Identifiers.ValidateApplicationName(application);
        return _stores.GetOrAdd(application, name => new Lazy<EventStore>(() => new EventStore(this, name))).Value;
    }

    // The dialect: what differs between database engines.

    /// <summary>Opens the connection an application writes through (one per application).</summary>
    internal abstract DataConnection OpenWriter(string application);

    /// <summary>Options for short-lived read connections (pooled).</summary>
    internal abstract DataOptions ReadOptions(string application);

    /// <summary>The table names of an application's events and tracking.</summary>
    internal virtual (string Events, string Tracking) TableNames(string application)
    {
        var snake = Identifiers.SnakeCase(application);
        return (Identifiers.ValidateSqlName(snake + "_events", "Table name"), Identifiers.ValidateSqlName(snake + "_tracking", "Table name"));
    }

    /// <summary>Creates the tables if they do not exist.</summary>
    internal abstract void CreateTables(DataConnection db, string eventsTable, string trackingTable);

    /// <summary>Serialises notification-id assignment within a write transaction.</summary>
    internal virtual void LockForAppend(DataConnection db, string eventsTable)
    {
    }

    /// <summary>
    /// The transport that carries prompts between processes sharing this store, or null where
    /// followers of other processes can only poll.
    /// </summary>
    public virtual PromptTransport? CreatePromptTransport() => null;

    /// <summary>
    /// Called inside an append transaction that stored events, just before it commits, with the last
    /// notification id assigned (PostgreSQL sends its prompt here, delivered only if the commit succeeds).
    /// </summary>
    internal virtual void Appending(DataConnection db, string application, long lastNotificationId)
    {
    }

    /// <summary>Whether an exception is a unique-constraint violation.</summary>
    internal abstract bool IsUniqueViolation(Exception exception);

    /// <summary>Whether a unique violation is on the notification id (the primary key) of <paramref name="eventsTable"/>.</summary>
    internal virtual bool IsNotificationIdViolation(Exception exception, string eventsTable) => false;

    /// <summary>
    /// Whether an exception says the connection itself is broken (the server cut it), so that a write
    /// that failed before its first statement completed may be retried on a fresh connection.
    /// </summary>
    internal virtual bool IsBrokenConnection(Exception exception) => false;

    /// <summary>
    /// Creates the table of a projection row type (idempotently: <paramref name="create"/> uses
    /// <c>CREATE TABLE IF NOT EXISTS</c>). Marks <paramref name="progress"/> once its first statement completed.
    /// </summary>
    internal virtual void CreateRowTable(DataConnection db, EventStore.WriteProgress progress, Action<DataConnection> create)
    {
        progress.Sent = true;
        create(db);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        foreach (var store in _stores.Values)
            if (store.IsValueCreated) store.Value.Dispose();
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases what the concrete store holds.</summary>
    protected virtual void Dispose(bool disposing)
    {
    }
}
