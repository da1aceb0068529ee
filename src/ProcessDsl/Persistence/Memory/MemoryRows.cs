using System.Collections.Concurrent;
using LinqToDB;
using LinqToDB.Data;

namespace ProcessDsl;

/// <summary>
/// The projection rows of one application of a <see cref="MemoryPersistence"/>: an in-memory SQLite
/// database of its own (shared cache, kept alive by a held connection), written through one held
/// connection, only ever under the application store's lock. A step's rows go in one transaction begun and ended by held prepared
/// statements (no LinqToDB transaction object, no statement compiled per step); only a step that
/// touches rows opens one. Users' queries outside steps use pooled connections of their own; one
/// that meets a step's table lock waits for it (Microsoft.Data.Sqlite retries), and a step that
/// meets a query's lock waits likewise.
/// </summary>
internal sealed class MemoryRows : IDisposable
{
    private readonly SqlitePersistence _sqlite;
    private readonly string _application;
    private readonly StoreTables _tables;
    private readonly ConcurrentDictionary<Type, bool> _known = new();
    private Writer? _writer;
    private DataConnection? _keeper;

    public MemoryRows(SqlitePersistence sqlite, string application)
    {
        _sqlite = sqlite;
        _application = application;
        _tables = sqlite.TablesOf(application);
    }

    public bool IsTransient(Exception exception) => _sqlite.IsTransient(exception, _tables);

    /// <summary>A query outside any step: the table is made first if missing.</summary>
    public IQueryable<T> Query<T>(Lock storeLock) where T : class
    {
        EnsureRowTable<T>(storeLock);
        var context = new DataContext(_sqlite.QueryOptions(_application));
        return context.GetTable<T>();
    }

    /// <summary>Creates the table of a row type in a transaction of its own, unless known to exist.</summary>
    public void EnsureRowTable<T>(Lock storeLock) where T : class
    {
        if (_known.ContainsKey(typeof(T))) return;
        lock (storeLock)
        {
            if (_known.ContainsKey(typeof(T))) return;
            var step = Begin();
            try
            {
                step.EnsureTable(typeof(T), RowTables.Create<T>);
                step.Commit();
            }
            finally
            {
                step.Dispose();
            }
        }
    }

    /// <summary>Begins a step's row transaction (the caller holds the store's lock).</summary>
    public Step Begin()
    {
        // The in-memory database lives while a connection to it is open: this one, never dropped.
        _keeper ??= _sqlite.OpenConnection(_application, StoreConnectionKind.Reader);
        var writer = _writer ??= new Writer(new StoreCommands(_sqlite.OpenConnection(_application, StoreConnectionKind.Writer), _sqlite.GuidParameterType));
        try
        {
            writer.Run(writer.BeginStatement);
        }
        catch
        {
            DropWriter();
            throw;
        }
        return new Step(this, writer);
    }

    public void Dispose()
    {
        DropWriter();
        _keeper?.Dispose();
        _keeper = null;
    }

    private void DropWriter()
    {
        var writer = _writer;
        _writer = null;
        try
        {
            writer?.Dispose();
        }
        catch (Exception)
        {
            // A broken connection may fail to close; it is gone either way.
        }
    }

    /// <summary>The held connection, with its transaction statements prepared once and run straight on SQLite.</summary>
    internal sealed class Writer : IDisposable
    {
        private readonly SQLitePCL.sqlite3 _handle;

        public Writer(StoreCommands commands)
        {
            Commands = commands;
            _handle = ((Microsoft.Data.Sqlite.SqliteConnection)commands.Db.OpenDbConnection()).Handle!;
            BeginStatement = Prepare("BEGIN IMMEDIATE");
            CommitStatement = Prepare("COMMIT");
            RollbackStatement = Prepare("ROLLBACK");
        }

        public StoreCommands Commands { get; }

        public SQLitePCL.sqlite3_stmt BeginStatement { get; }

        public SQLitePCL.sqlite3_stmt CommitStatement { get; }

        public SQLitePCL.sqlite3_stmt RollbackStatement { get; }

        /// <summary>Whether a transaction is open (SQLite ends one itself after some errors).</summary>
        public bool InTransaction => SQLitePCL.raw.sqlite3_get_autocommit(_handle) == 0;

        public void Run(SQLitePCL.sqlite3_stmt statement)
        {
            var rc = SQLitePCL.raw.sqlite3_step(statement);
            SQLitePCL.raw.sqlite3_reset(statement);
            if (rc == SQLitePCL.raw.SQLITE_DONE) return;
            // A user's query reading a table of the shared cache holds its table lock for a moment.
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while ((rc & 0xFF) == SQLitePCL.raw.SQLITE_LOCKED && waited.Elapsed < LockedTimeout)
            {
                Thread.Sleep(1);
                rc = SQLitePCL.raw.sqlite3_step(statement);
                SQLitePCL.raw.sqlite3_reset(statement);
                if (rc == SQLitePCL.raw.SQLITE_DONE) return;
            }
            Microsoft.Data.Sqlite.SqliteException.ThrowExceptionForRC(rc, _handle);
        }

        private static readonly TimeSpan LockedTimeout = TimeSpan.FromSeconds(60);

        private SQLitePCL.sqlite3_stmt Prepare(string sql)
        {
            var rc = SQLitePCL.raw.sqlite3_prepare_v2(_handle, sql, out var statement);
            Microsoft.Data.Sqlite.SqliteException.ThrowExceptionForRC(rc, _handle);
            return statement;
        }

        public void Dispose()
        {
            try
            {
                BeginStatement.Dispose();
                CommitStatement.Dispose();
                RollbackStatement.Dispose();
            }
            finally
            {
                Commands.Dispose();
            }
        }
    }

    /// <summary>One step's rows: changes are written before a query of the step and at commit.</summary>
    internal sealed class Step(MemoryRows owner, Writer writer) : IDisposable
    {
        private readonly StoreCommands _db = writer.Commands;
        private readonly List<RowChange> _rows = [];
        private List<Type>? _newTables;
        private bool _open = true;

        public IQueryable<T> Query<T>() where T : class
        {
            FlushRows();
            EnsureTable(typeof(T), RowTables.Create<T>);
            return _db.Db.GetTable<T>();
        }

        public void Add(RowChange row) => _rows.Add(row);

        public void FlushRows()
        {
            if (_rows.Count == 0) return;
            foreach (var row in _rows)
            {
                EnsureTable(row.RowType, row.EnsureTable);
                row.Apply(_db.Db);
            }
            _rows.Clear();
        }

        /// <summary>Writes what is left and commits; a failure leaves nothing of the step (rolled back on dispose).</summary>
        public void Commit()
        {
            FlushRows();
            writer.Run(writer.CommitStatement);
            _open = false;
            if (_newTables is not null)
                foreach (var type in _newTables) owner._known[type] = true;
        }

        /// <summary>Created inside the step's transaction: a rolled-back step never leaves a table believed to exist.</summary>
        internal void EnsureTable(Type type, Action<DataConnection> create)
        {
            if (owner._known.ContainsKey(type) || (_newTables?.Contains(type) ?? false)) return;
            owner._sqlite.CreateRowTable(_db.Db, create);
            (_newTables ??= []).Add(type);
        }

        public void Dispose()
        {
            if (!_open) return;
            _open = false;
            try
            {
                // SQLite may have ended the transaction itself after some errors.
                if (writer.InTransaction) writer.Run(writer.RollbackStatement);
            }
            catch (Exception)
            {
                // The connection is unusable: a new one is opened for the next step.
                owner.DropWriter();
            }
        }
    }
}
