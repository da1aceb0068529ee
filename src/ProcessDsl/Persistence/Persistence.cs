using System.Data;
using System.Data.Common;
using LinqToDB;
using LinqToDB.Data;
using LinqToDB.Mapping;

namespace ProcessDsl;

/// <summary>
/// Where applications store their events, tracking records and projection rows. Choose one with
/// <see cref="Sqlite"/> (embedded, the default), <see cref="InMemory"/> (throwaway) or a server store
/// (<c>Persistence.Postgres</c> in the ProcessDsl.PostgreSql package). One instance serves every
/// application of a system; dispose it after the runner.
/// </summary>
/// <remarks>
/// <para>
/// <b>Writing a storage provider.</b> A provider derives from this class and supplies what differs
/// between database engines, through the <c>protected internal</c> members below: how connections
/// are opened (<see cref="OpenConnection"/>, <see cref="QueryOptions"/>), the tables
/// (<see cref="TablesOf"/>, <see cref="CreateTables"/>, <see cref="CreateRowTable"/>), the append
/// lock that keeps notification ids contiguous (<see cref="AppendLockSql"/>), how events are inserted
/// (<see cref="InsertEvents"/>), what an error means (<see cref="Classify"/>), its prompt transport
/// (<see cref="CreatePromptTransport"/>) and how another process reopens it (<see cref="ShareableSpec"/>).
/// Everything else (group commit, the processing step as one transaction, conditional tracking
/// updates, reading) is the library's and the same for every provider. To wrap a provider (fault
/// injection, tracing), derive from <see cref="DelegatingPersistence"/>. See <c>docs/providers.md</c>.
/// </para>
/// </remarks>
public abstract class Persistence : IDisposable
{
    private readonly Dictionary<string, EventStore> _stores = new(StringComparer.Ordinal);
    private readonly Lock _storesLock = new();
    private int _disposed;

    /// <summary>
    /// SQLite in <paramref name="directory"/>: one database file per application
    /// (<c>orders.db</c>, ...), WAL mode, <c>synchronous=FULL</c> unless
    /// <paramref name="durability"/> says otherwise.
    /// </summary>
    public static SqlitePersistence Sqlite(string directory, SqliteDurability durability = SqliteDurability.Full) =>
        new(directory, durability, deleteOnDispose: false);

    /// <summary>
    /// A throwaway store for tests, demos and benchmarks: events and positions kept as plain objects
    /// in this process, projection rows in temporary SQLite files; gone on dispose. Every guarantee of
    /// the other stores holds within the process (contiguous ids, one atomic step, conflicts detected).
    /// See <see cref="MemoryPersistence"/>.
    /// </summary>
    public static MemoryPersistence InMemory() => new();

    /// <summary>A short description of the store for logs, e.g. <c>sqlite:/data</c> (never a password).</summary>
    public abstract string Description { get; }

    /// <summary>
    /// A store spec, as <see cref="StoreSpec.Open"/> reads it, that opens this same store in another
    /// process (worker processes use it), or null when the store cannot be shared between processes.
    /// It may contain secrets: pass it through the environment, never a command line.
    /// </summary>
    public virtual string? ShareableSpec => null;

    /// <summary>The event store of one application, created (with its tables) on first use.</summary>
    /// <remarks>A failure to open it (a database that is down) is not remembered: the next call tries again.</remarks>
    internal EventStore Store(string application)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        Identifiers.ValidateApplicationName(application);
        lock (_storesLock)
        {
            if (_stores.TryGetValue(application, out var existing)) return existing;
            var store = CreateStore(application);
            _stores.Add(application, store);
            return store;
        }
    }

    /// <summary>Makes the store of one application (a database's, unless the provider keeps events itself).</summary>
    internal virtual EventStore CreateStore(string application) => new SqlEventStore(this, application);

    // ---- The provider seam: what differs between database engines. ----

    /// <summary>
    /// Opens a connection to an application's database: the one it writes through
    /// (<see cref="StoreConnectionKind.Writer"/>, held for the store's lifetime) or one of the held
    /// reader connections (<see cref="StoreConnectionKind.Reader"/>). The result must be open.
    /// </summary>
    protected internal abstract DataConnection OpenConnection(string application, StoreConnectionKind kind);

    /// <summary>Options for the short-lived connections of users' queries outside processing steps (pooled).</summary>
    protected internal abstract DataOptions QueryOptions(string application);

    /// <summary>
    /// The names of an application's tables, validated. The default is <c>x_events</c> and
    /// <c>x_tracking</c> for application <c>X</c> in snake case, without a schema.
    /// </summary>
    protected internal virtual StoreTables TablesOf(string application)
    {
        var snake = Identifiers.SnakeCase(application);
        return new StoreTables(snake + "_events", snake + "_tracking", snake + "_parked", Schema: null);
    }

    /// <summary>Creates an application's tables if they do not exist (idempotent, safe when processes race).</summary>
    protected internal abstract void CreateTables(DataConnection db, StoreTables tables);

    /// <summary>
    /// Creates the table of a projection row type inside the current transaction of
    /// <paramref name="db"/>, idempotently (<paramref name="create"/> uses <c>CREATE TABLE IF NOT EXISTS</c>).
    /// A provider whose catalog races under concurrent DDL takes a lock first.
    /// </summary>
    protected internal virtual void CreateRowTable(DataConnection db, Action<DataConnection> create)
    {
        ArgumentNullException.ThrowIfNull(create);
        create(db);
    }

    /// <summary>
    /// Binds <paramref name="command"/> to write many projection rows of one mapped type (their keys
    /// distinct) in one statement whose values come as one array parameter per column: its text is
    /// <paramref name="insertInto"/> (<c>INSERT INTO table (columns)</c>), then the provider's source of
    /// rows made from the arrays, then <paramref name="onConflict"/> (an upsert's clause, or empty for a
    /// plain insert). The values are each column's provider value (<see cref="ColumnDescriptor.GetProviderValue"/>),
    /// converted as LinqToDB converts a parameter of that column. Returns false, having bound nothing,
    /// where the provider has no array parameters or cannot carry some column's values in one; the rows
    /// then go as multi-row <c>VALUES</c>. The default returns false; PostgreSQL unnests arrays, so a
    /// step's thousand rows are one statement with one parameter per column.
    /// </summary>
    protected internal virtual bool BindRowArrays(DataConnection db, DbBatchCommand command, string insertInto, IReadOnlyList<ColumnDescriptor> columns, IReadOnlyList<object> rows, string onConflict) => false;

    /// <summary>
    /// Whether a step's runs of projection rows are first sent as plain inserts, inside a savepoint in
    /// the same round trip, and sent again as upserts only when the database refuses a key that already
    /// exists (<see cref="Classify"/> says <see cref="StoreFault.UniqueViolation"/>). Where an upsert
    /// looks its key up before it inserts (PostgreSQL's <c>ON CONFLICT</c>), a run of new rows then costs
    /// one index descent per row instead of two. The end state is the upsert's either way. A row type
    /// whose runs keep meeting existing keys is sent as upserts for a while (doubling, up to 1,024
    /// runs) before plain inserts are tried again. False by default.
    /// </summary>
    protected internal virtual bool InsertsNewRowsFirst => false;

    /// <summary>
    /// A statement that, run inside an append transaction before the newest id is read, serialises
    /// notification-id assignment for the application until commit (PostgreSQL: an exclusive table
    /// lock), or null where the transaction itself is exclusive (SQLite's <c>BEGIN IMMEDIATE</c>).
    /// </summary>
    protected internal virtual string? AppendLockSql(StoreTables tables) => null;

    /// <summary>
    /// Inserts events (ids already assigned, consecutive) in the current transaction. The default runs
    /// one prepared single-row <c>INSERT</c> per event on the held connection, which is what an
    /// embedded database does fastest; a server provider overrides it to send them in one round trip.
    /// </summary>
    protected internal virtual void InsertEvents(StoreCommands commands, StoreTables tables, IReadOnlyList<StoredEvent> events)
    {
        ArgumentNullException.ThrowIfNull(commands);
        ArgumentNullException.ThrowIfNull(tables);
        ArgumentNullException.ThrowIfNull(events);
        var insert = commands.Prepare(
            $"INSERT INTO {tables.Events} (notification_id, originator_id, originator_version, topic, state, \"timestamp\", version, metadata) " +
            "VALUES (@id, @originator, @version, @topic, @state, @timestamp, @v, @metadata)",
            ("id", DbType.Int64), ("originator", DbType.Guid), ("version", DbType.Int64), ("topic", DbType.String),
            ("state", DbType.Binary), ("timestamp", DbType.Int64), ("v", DbType.Int32), ("metadata", DbType.String));
        foreach (var e in events)
        {
            insert.Set(0, e.NotificationId).Set(1, e.OriginatorId).Set(2, e.OriginatorVersion).Set(3, e.Topic)
                .Set(4, e.State).Set(5, e.Timestamp).Set(6, e.Version).Set(7, e.Metadata);
            insert.ExecuteNonQuery();
        }
    }

    /// <summary>
    /// As <see cref="InsertEvents"/>, for an asynchronous save (<see cref="Application.SaveAsync(Aggregate, CancellationToken)"/>).
    /// The default runs <see cref="InsertEvents"/>; a server provider overrides it so no thread waits on the network.
    /// </summary>
    protected internal virtual ValueTask InsertEventsAsync(StoreCommands commands, StoreTables tables, IReadOnlyList<StoredEvent> events, CancellationToken cancellationToken)
    {
        InsertEvents(commands, tables, events);
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Appends in one round trip, where the database allows it. Inside the current transaction, in
    /// this order: moves the tracking position (when <paramref name="tracking"/> is given, and only if
    /// it is still the expected one), takes the append lock, reads the newest notification id, inserts
    /// <paramref name="events"/> with the ids after it, and sends the prompt that
    /// <see cref="Appending"/> would. Returns null, having done nothing, when the provider does not do
    /// this (the default): the store then runs <see cref="AppendLockSql"/>, its read of the newest id,
    /// <see cref="InsertEvents"/> and <see cref="Appending"/> one statement at a time.
    /// </summary>
    /// <remarks>
    /// A server provider overrides this so that an append costs one round trip before its commit
    /// instead of five: on PostgreSQL each round trip inside the append lock is time no other writer of
    /// the application can use. A wrapper (<see cref="DelegatingPersistence"/>) that overrides
    /// <see cref="InsertEvents"/> or <see cref="Appending"/> should override this too and return null.
    /// A store that got null once does not ask again: the answer is the provider's, not the call's.
    /// </remarks>
    /// <param name="commands">The application's writer connection, inside the append's transaction.</param>
    /// <param name="tables">The application's tables.</param>
    /// <param name="application">The application's name (the prompt names it).</param>
    /// <param name="tracking">The tracking move of a processing step, or null for a command's save.</param>
    /// <param name="events">The events in order (at least one); their <see cref="StoredEvent.NotificationId"/> is not used.</param>
    /// <param name="progress">
    /// Where the provider says how far it got, for a failure to be told apart: set
    /// <see cref="WriteProgress.Sent"/> once the database has run a statement of the append (a broken
    /// connection before that is retried on a fresh one, after it never), and
    /// <see cref="WriteProgress.FirstId"/> once the newest id is read (the first id the events take).
    /// </param>
    protected internal virtual AppendedAtOnce? AppendAtOnce(StoreCommands commands, StoreTables tables, string application, TrackingUpdate? tracking, IReadOnlyList<StoredEvent> events, WriteProgress progress) => null;

    /// <summary>As <see cref="AppendAtOnce"/>, for an asynchronous save, without blocking a thread. The default returns null.</summary>
    /// <param name="commands">The application's writer connection, inside the append's transaction.</param>
    /// <param name="tables">The application's tables.</param>
    /// <param name="application">The application's name (the prompt names it).</param>
    /// <param name="events">The events in order (at least one); their <see cref="StoredEvent.NotificationId"/> is not used.</param>
    /// <param name="progress">Where the provider says how far it got (see <see cref="AppendAtOnce"/>).</param>
    /// <param name="cancellationToken">Cancels the round trip.</param>
    protected internal virtual ValueTask<AppendedAtOnce?> AppendAtOnceAsync(StoreCommands commands, StoreTables tables, string application, IReadOnlyList<StoredEvent> events, WriteProgress progress, CancellationToken cancellationToken) =>
        ValueTask.FromResult<AppendedAtOnce?>(null);

    /// <summary>
    /// Whether a command's save may go to the database as one round trip that begins its transaction,
    /// locks, numbers, inserts and commits (<see cref="AppendCommitted"/>), instead of
    /// <see cref="AppendAtOnce"/> followed by a <c>COMMIT</c> of its own. False by default.
    /// </summary>
    protected internal virtual bool AppendsCommitted => false;

    /// <summary>
    /// A command's save in one round trip, its transaction included (see <see cref="AppendsCommitted"/>),
    /// on a connection with no transaction open. The default throws <see cref="NotSupportedException"/>.
    /// </summary>
    /// <remarks>
    /// The provider reports how far a failed write got, for the store to say what it means: nothing
    /// done (<see cref="WriteProgress.Sent"/> false: a broken connection is retried on a fresh one),
    /// refused by the database before its <c>COMMIT</c> (<see cref="WriteProgress.Sent"/> true: the
    /// error is the caller's, a unique violation explained as for any append), or unknown
    /// (<see cref="WriteProgress.OutcomeUnknown"/>). A failure after the <c>COMMIT</c>'s reply is not a
    /// failure: the save stands. The connection is left with no transaction open, or broken.
    /// </remarks>
    /// <param name="commands">A writer connection of the application, with no transaction open.</param>
    /// <param name="tables">The application's tables.</param>
    /// <param name="application">The application's name (the prompt names it).</param>
    /// <param name="events">The events in order (at least one); their <see cref="StoredEvent.NotificationId"/> is not used.</param>
    /// <param name="progress">Where the provider says how far it got (above), and <see cref="WriteProgress.FirstId"/> once known.</param>
    /// <returns>The newest notification id before the save's: its events took the ids after it, in order.</returns>
    protected internal virtual long AppendCommitted(StoreCommands commands, StoreTables tables, string application, IReadOnlyList<StoredEvent> events, WriteProgress progress) =>
        throw new NotSupportedException($"{GetType().Name} does not append and commit in one round trip.");

    /// <summary>As <see cref="AppendCommitted"/>, without blocking a thread while the server works.</summary>
    /// <param name="commands">A writer connection of the application, with no transaction open.</param>
    /// <param name="tables">The application's tables.</param>
    /// <param name="application">The application's name (the prompt names it).</param>
    /// <param name="events">The events in order (at least one).</param>
    /// <param name="progress">Where the provider says how far it got (see <see cref="AppendCommitted"/>).</param>
    /// <param name="cancellationToken">Not observed by the store's saves, which await the outcome of a save once taken into a transaction; a provider may observe it before sending.</param>
    protected internal virtual Task<long> AppendCommittedAsync(StoreCommands commands, StoreTables tables, string application, IReadOnlyList<StoredEvent> events, WriteProgress progress, CancellationToken cancellationToken) =>
        throw new NotSupportedException($"{GetType().Name} does not append and commit in one round trip.");

    /// <summary>
    /// Called inside an append transaction that stored events, just before it commits, with the last
    /// notification id assigned (PostgreSQL sends its prompt here, delivered only if the commit succeeds).
    /// </summary>
    protected internal virtual void Appending(StoreCommands commands, string application, long lastNotificationId)
    {
    }

    /// <summary>As <see cref="Appending"/>, for an asynchronous save. The default runs <see cref="Appending"/>.</summary>
    protected internal virtual ValueTask AppendingAsync(StoreCommands commands, string application, long lastNotificationId, CancellationToken cancellationToken)
    {
        Appending(commands, application, lastNotificationId);
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// How a <see cref="Guid"/> parameter is bound: <see cref="DbType.Guid"/> (a native uuid) by default;
    /// a provider that stores them as 16 bytes says <see cref="DbType.Binary"/>.
    /// </summary>
    protected internal virtual DbType GuidParameterType => DbType.Guid;

    /// <summary>
    /// Begins the transaction of a write that only moves a tracking position past upstream events
    /// with no effect (topics no policy handles). Its commit need not wait for the disk: lost in a
    /// power cut, the position is only further back, and those events are read and passed over again.
    /// The default begins an ordinary transaction; SQLite commits it with <c>synchronous=NORMAL</c>,
    /// PostgreSQL with <c>synchronous_commit = off</c>.
    /// </summary>
    /// <param name="commands">The application's writer connection, with no transaction open.</param>
    protected internal virtual void BeginPositionWrite(StoreCommands commands)
    {
        ArgumentNullException.ThrowIfNull(commands);
        commands.Db.BeginTransaction();
    }

    /// <summary>
    /// Called after the transaction of <see cref="BeginPositionWrite"/> committed or rolled back, to
    /// give the connection back its usual durability; if this throws, the connection is not used
    /// again. The default does nothing.
    /// </summary>
    /// <param name="commands">The application's writer connection.</param>
    protected internal virtual void EndPositionWrite(StoreCommands commands)
    {
    }

    /// <summary>Commits the current transaction of <paramref name="db"/>. A wrapper may fail here to test unknown outcomes.</summary>
    protected internal virtual void CommitTransaction(DataConnection db)
    {
        ArgumentNullException.ThrowIfNull(db);
        db.CommitTransaction();
    }

    /// <summary>
    /// As <see cref="CommitTransaction"/>, for an asynchronous save: LinqToDB's asynchronous commit by
    /// default. A wrapper that overrides <see cref="CommitTransaction"/> overrides this too.
    /// </summary>
    protected internal virtual Task CommitTransactionAsync(DataConnection db, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        return db.CommitTransactionAsync(cancellationToken);
    }

    /// <summary>What a database error means: see <see cref="StoreFault"/>. Unknown errors are <see cref="StoreFault.Permanent"/>.</summary>
    protected internal abstract StoreFault Classify(Exception exception, StoreTables tables);

    /// <summary>
    /// The transport that carries prompts between processes sharing this store, or null where
    /// followers of other processes can only poll.
    /// </summary>
    public virtual PromptTransport? CreatePromptTransport() => null;

    /// <summary>Whether an exception (or one inside it) is a passing database fault of this store.</summary>
    internal bool IsTransient(Exception exception, StoreTables tables)
    {
        for (var ex = exception; ex is not null; ex = ex.InnerException)
        {
            if (ex is DbException or StoreUnavailableException)
            {
                var fault = ex is StoreUnavailableException ? StoreFault.Transient : Classify(ex, tables);
                if (fault is StoreFault.Transient or StoreFault.BrokenConnection) return true;
            }
        }
        return false;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        lock (_storesLock)
        {
            foreach (var store in _stores.Values) store.Dispose();
            _stores.Clear();
        }
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases what the concrete store holds.</summary>
    protected virtual void Dispose(bool disposing)
    {
    }
}

/// <summary>Which connection of an application <see cref="Persistence.OpenConnection"/> opens.</summary>
public enum StoreConnectionKind
{
    /// <summary>The one connection an application writes through (appends, processing steps), held.</summary>
    Writer,

    /// <summary>A held connection for reads (notification logs, aggregates, positions).</summary>
    Reader,
}

/// <summary>What a database error means to the library.</summary>
public enum StoreFault
{
    /// <summary>It would happen again the same way (a bad row, a schema problem): pinned to its event and reported.</summary>
    Permanent,

    /// <summary>It passes (busy, locked, a serialization failure, the server restarting): retried with backoff.</summary>
    Transient,

    /// <summary>The connection itself is broken: transient, and a write that failed before its first statement may be retried at once on a new connection.</summary>
    BrokenConnection,

    /// <summary>A unique-constraint violation (a stale aggregate version, a tracking row inserted twice).</summary>
    UniqueViolation,

    /// <summary>A unique violation on the notification id itself: the append lock did not hold.</summary>
    NotificationIdViolation,
}

/// <summary>
/// The validated names of an application's tables, each ready to put in SQL (quoted where the
/// provider needs it, qualified by <paramref name="Schema"/> when there is one).
/// </summary>
/// <param name="EventsName">The events table's bare name (<c>orders_events</c>).</param>
/// <param name="TrackingName">The tracking table's bare name.</param>
/// <param name="ParkedName">The parked-events table's bare name.</param>
/// <param name="Schema">The schema, or null for the connection's default.</param>
public sealed record StoreTables(string EventsName, string TrackingName, string ParkedName, string? Schema)
{
    /// <summary>The events table as SQL text.</summary>
    public string Events { get; } = Qualify(Schema, Identifiers.ValidateSqlName(EventsName, "Table name"));

    /// <summary>The tracking table as SQL text.</summary>
    public string Tracking { get; } = Qualify(Schema, Identifiers.ValidateSqlName(TrackingName, "Table name"));

    /// <summary>The parked-events table as SQL text.</summary>
    public string Parked { get; } = Qualify(Schema, Identifiers.ValidateSqlName(ParkedName, "Table name"));

    // Validated identifiers are lower-case letters, digits and underscores; quoting makes reserved words safe too.
    private static string Qualify(string? schema, string name) =>
        schema is null ? "\"" + name + "\"" : "\"" + Identifiers.ValidateSqlName(schema, "Schema name") + "\".\"" + name + "\"";
}

/// <summary>An event as stored: its notification id assigned.</summary>
/// <param name="NotificationId">Its position in the application sequence.</param>
/// <param name="OriginatorId">The aggregate.</param>
/// <param name="OriginatorVersion">The aggregate's version after it.</param>
/// <param name="Topic">The event's topic.</param>
/// <param name="State">UTF-8 JSON.</param>
/// <param name="Timestamp">UTC ticks.</param>
/// <param name="Version">The event class's version it was written at.</param>
/// <param name="Metadata">The event's <see cref="EventMetadata"/> as JSON text for the <c>metadata</c> column, or null.</param>
public sealed record StoredEvent(long NotificationId, Guid OriginatorId, long OriginatorVersion, string Topic, byte[] State, long Timestamp, int Version, string? Metadata = null);

/// <summary>The database cannot be reached right now (raised by the library's own calls; always transient).</summary>
public sealed class StoreUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public StoreUnavailableException(string message, Exception? inner = null) : base(message, inner)
    {
    }
}
