using System.Collections.Concurrent;
using System.Data.Common;
using System.Runtime.CompilerServices;
using LinqToDB;
using LinqToDB.Data;
using LinqToDB.Mapping;

namespace ProcessDsl;

/// <summary>
/// The upsert and delete of one projection row type, as SQL text built once from LinqToDB's mapping
/// (table, columns, keys) and executed through LinqToDB's command API with parameters, so LinqToDB
/// still converts every value as it does for its own statements, but nothing rebuilds SQL per row.
/// <c>INSERT ... ON CONFLICT (keys) DO UPDATE</c> is understood by SQLite (3.24+) and PostgreSQL (9.5+);
/// mappings it cannot express (identity columns, inheritance) use LinqToDB's own operations.
/// </summary>
internal sealed class RowStatements
{
    private static readonly ConcurrentDictionary<Type, RowStatements?> s_byType = new();

    private readonly ColumnDescriptor[] _columns;
    private readonly ColumnDescriptor[] _keys;
    private readonly string _upsert;
    private readonly string _delete;
    private readonly string _upsertHead;
    private readonly string _upsertTail;
    private readonly string _insertInto;
    // Multi-row upserts by row count: the SQL text and its parameter names, each built once.
    private readonly ConcurrentDictionary<int, (string Sql, string[] Names)> _multiRow = new();

    private RowStatements(EntityDescriptor entity)
    {
        _columns = [.. entity.Columns];
        _keys = [.. entity.Columns.Where(c => c.IsPrimaryKey)];
        var table = Quote(entity.Name.Name);
        if (!string.IsNullOrEmpty(entity.Name.Schema)) table = Quote(entity.Name.Schema) + "." + table;
        var names = string.Join(", ", _columns.Select(c => Quote(c.ColumnName)));
        var values = string.Join(", ", _columns.Select((_, i) => "@p" + i));
        var keys = string.Join(", ", _keys.Select(c => Quote(c.ColumnName)));
        var others = _columns.Where(c => !c.IsPrimaryKey).Select(c => $"{Quote(c.ColumnName)} = excluded.{Quote(c.ColumnName)}").ToList();
        _insertInto = $"INSERT INTO {table} ({names})";
        _upsertHead = _insertInto + " VALUES ";
        _upsertTail = $" ON CONFLICT ({keys}) " + (others.Count == 0 ? "DO NOTHING" : "DO UPDATE SET " + string.Join(", ", others));
        _upsert = _upsertHead + "(" + values + ")" + _upsertTail;
        _delete = $"DELETE FROM {table} WHERE " + string.Join(" AND ", _keys.Select((c, i) => $"{Quote(c.ColumnName)} = @k{i}"));
    }

    /// <summary>The statements of a row type, or null when its mapping needs LinqToDB's own operations.</summary>
    public static RowStatements? For(Type type) => s_byType.GetOrAdd(type, static type =>
    {
        var entity = MappingSchema.Default.GetEntityDescriptor(type);
        var simple = entity.Columns.Count > 0 && entity.Columns.Any(c => c.IsPrimaryKey) && entity.InheritanceMapping.Count == 0
                     && entity.Columns.All(c => !c.MemberName.Contains('.', StringComparison.Ordinal)) && entity.Columns.All(c => !c.IsIdentity && !c.SkipOnInsert && !c.SkipOnUpdate);
        return simple ? new RowStatements(entity) : null;
    });

    // SQLite connections keep each statement as a command of their own, prepared once (an embedded
    // database gains most from skipping LinqToDB's command set-up and SQLite's re-preparing).
    private readonly ConditionalWeakTable<DbConnection, DbCommand> _upserts = new();
    private readonly ConditionalWeakTable<DbConnection, DbCommand> _deletes = new();

    public void Save(DataConnection db, object row)
    {
        if (db.OpenDbConnection() is Microsoft.Data.Sqlite.SqliteConnection connection) Execute(db, connection, _upserts, _upsert, _columns, "p", row);
        else db.Execute(_upsert, Parameters(_columns, "p", row));
    }

    public void Delete(DataConnection db, object row)
    {
        if (db.OpenDbConnection() is Microsoft.Data.Sqlite.SqliteConnection connection) Execute(db, connection, _deletes, _delete, _keys, "k", row);
        else db.Execute(_delete, Parameters(_keys, "k", row));
    }

    /// <summary>The most statements sent in one batch (one round trip each).</summary>
    internal const int BatchSize = 256;

    /// <summary>The most rows one multi-row upsert carries.</summary>
    internal const int MaxRowsPerStatement = 128;

    /// <summary>The upsert of <paramref name="rows"/> rows in one statement, with its parameter names (row-major).</summary>
    private (string Sql, string[] Names) MultiRow(int rows) => _multiRow.GetOrAdd(rows, n =>
    {
        var names = new string[n * _columns.Length];
        var sql = new System.Text.StringBuilder(_upsertHead);
        for (var r = 0; r < n; r++)
        {
            sql.Append(r == 0 ? "(" : ", (");
            for (var c = 0; c < _columns.Length; c++)
            {
                var name = names[r * _columns.Length + c] = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"@r{r}c{c}");
                sql.Append(c == 0 ? "" : ", ").Append(name);
            }
            sql.Append(')');
        }
        return (sql.Append(_upsertTail).ToString(), names);
    });

    /// <summary>The key of a row as the database compares it (provider values; arrays by content).</summary>
    private object?[] KeyOf(object row)
    {
        var key = new object?[_keys.Length];
        for (var i = 0; i < key.Length; i++) key[i] = _keys[i].GetProviderValue(row);
        return key;
    }

    private sealed class KeyComparer : IEqualityComparer<object?[]>
    {
        public static readonly KeyComparer Instance = new();

        public bool Equals(object?[]? x, object?[]? y) => System.Collections.StructuralComparisons.StructuralEqualityComparer.Equals(x, y);

        public int GetHashCode(object?[] key) => System.Collections.StructuralComparisons.StructuralEqualityComparer.GetHashCode(key);
    }

    /// <summary>The most rows one statement of array parameters carries (see <see cref="Persistence.BindRowArrays"/>).</summary>
    internal const int MaxRowsPerArrayStatement = 10_000;

    /// <summary>The savepoint a batch of plain inserts is sent inside (see <see cref="Persistence.InsertsNewRowsFirst"/>).</summary>
    private const string Savepoint = "processdsl_rows";

    // Plain inserts first: how many of this row type's next runs go as upserts after a run met an
    // existing key, and how many the next such meeting sets (doubling). Shared by every store and
    // thread: a lost update only makes one more or one fewer attempt, never a different end state.
    private int _upsertRuns;
    private int _upsertBackoff;

    // Whether the provider last refused this type's rows as arrays: runs are then cut at the VALUES
    // limit before their keys are compared (a hint only; every run asks the provider again).
    private volatile bool _arraysRefused;

    /// <summary>Whether this row type's next run is tried as a plain insert (counts down a backoff).</summary>
    private bool TakeInsertFirst()
    {
        if (Volatile.Read(ref _upsertRuns) <= 0) return true;
        Interlocked.Decrement(ref _upsertRuns);
        return false;
    }

    /// <summary>A run of this type met an existing key: upserts for the next runs, twice as many as last time (at most 1,024).</summary>
    private void InsertMetExistingKey()
    {
        var backoff = Math.Clamp(Volatile.Read(ref _upsertBackoff) * 2, 1, 1024);
        Volatile.Write(ref _upsertBackoff, backoff);
        Volatile.Write(ref _upsertRuns, backoff);
    }

    /// <summary>A run of this type went in as plain inserts: the backoff starts again from one.</summary>
    private void InsertWentIn() => Volatile.Write(ref _upsertBackoff, 0);

    /// <summary>The SQL of <paramref name="rows"/> rows as multi-row <c>VALUES</c>, upserted or plainly inserted.</summary>
    private (string Sql, string[] Names) MultiRow(int rows, bool insert)
    {
        var (sql, names) = MultiRow(rows);
        return insert ? (sql[..^_upsertTail.Length], names) : (sql, names);
    }

    /// <summary>
    /// Writes a step's row changes, in order, in batches of statements each sent in one round trip,
    /// when the provider's connection supports ADO.NET batches (Npgsql does; Microsoft.Data.Sqlite,
    /// in process, gains nothing from them and does not) and every change has statements built once.
    /// Consecutive upserts of one row type with distinct keys go as one multi-row statement (what the
    /// server then parses, plans and runs once): the same rows, in the same transaction, so the same
    /// end state as one statement each; a key written again starts a new statement, as one statement
    /// may not change a row twice. Where the provider takes arrays (<see cref="Persistence.BindRowArrays"/>)
    /// such a run is one statement with one parameter per column; otherwise multi-row <c>VALUES</c>.
    /// Where it inserts new rows first (<see cref="Persistence.InsertsNewRowsFirst"/>) the runs are
    /// plain inserts inside a savepoint of the same batch; a batch that meets an existing key is rolled
    /// back to the savepoint and sent again as upserts. Returns false, having written nothing,
    /// otherwise: the caller then applies the changes one by one.
    /// </summary>
    /// <param name="store">The step's store: its provider and tables.</param>
    /// <param name="db">The step's connection, inside its transaction.</param>
    /// <param name="rows">The row changes, in the order the policies made them.</param>
    /// <param name="tracking">A tracking move to send as the last statement of the last round trip, or null.</param>
    /// <param name="trackingMoved">Whether that move found the expected position and moved it (false: the caller moves it as usual, or reports the conflict).</param>
    public static bool Batch(SqlEventStore store, DataConnection db, IReadOnlyList<RowChange> rows, TrackingUpdate? tracking, out bool trackingMoved)
    {
        trackingMoved = false;
        var connection = db.OpenDbConnection();
        if (!connection.CanCreateBatch) return false;
        foreach (var row in rows)
            if (row.Statements is null) return false;
        var persistence = store.Persistence;
        var insertsFirst = persistence.InsertsNewRowsFirst;
        var next = 0;
        HashSet<object?[]>? keys = null;
        List<RowStatements>? tried = null;
        while (next < rows.Count)
        {
            var start = next;
            using (var batch = Build(store, db, connection, rows, ref next, insertsFirst, tracking, ref keys, ref tried, out var move))
            {
                try
                {
                    batch.ExecuteNonQuery();
                    trackingMoved = move?.RecordsAffected == 1;
                    if (tried is not null)
                        foreach (var type in tried) type.InsertWentIn();
                    continue;
                }
                catch (DbException ex) when (tried is { Count: > 0 } && persistence.Classify(ex, store.Tables) == StoreFault.UniqueViolation)
                {
                    // A key that exists already: undo the batch's writes, then the same writes as upserts.
                    foreach (var type in tried) type.InsertMetExistingKey();
                }
            }
            using (var undo = connection.CreateCommand())
            {
                undo.Transaction = db.Transaction;
                undo.CommandText = $"ROLLBACK TO SAVEPOINT {Savepoint}; RELEASE SAVEPOINT {Savepoint}";
                undo.ExecuteNonQuery();
            }
            next = start;
            using var again = Build(store, db, connection, rows, ref next, insertsFirst: false, tracking, ref keys, ref tried, out var moveAgain);
            again.ExecuteNonQuery();
            trackingMoved = moveAgain?.RecordsAffected == 1;
        }
        return true;
    }

    /// <summary>
    /// The next batch of statements from <paramref name="next"/> on (moved past what it covers). Runs
    /// of two or more rows whose type takes a plain insert first are listed in <paramref name="tried"/>,
    /// and the batch then begins with a savepoint and ends releasing it. The batch that covers the last
    /// row ends with the tracking move, when there is one (<paramref name="move"/>).
    /// </summary>
    private static DbBatch Build(SqlEventStore store, DataConnection db, DbConnection connection, IReadOnlyList<RowChange> rows, ref int next,
        bool insertsFirst, TrackingUpdate? tracking, ref HashSet<object?[]>? keys, ref List<RowStatements>? tried, out DbBatchCommand? move)
    {
        var persistence = store.Persistence;
        move = null;
        tried?.Clear();
        var batch = connection.CreateBatch();
        batch.Transaction = db.Transaction;
        while (next < rows.Count && batch.BatchCommands.Count < BatchSize)
        {
            var change = rows[next];
            var statements = change.Statements!;
            var command = batch.CreateBatchCommand();
            if (change.IsDelete)
            {
                command.CommandText = statements._delete;
                for (var i = 0; i < statements._keys.Length; i++)
                    command.Parameters.Add(Parameter(db, command, statements._keys[i], ParameterName("k", i), change.Row!));
                next++;
            }
            else
            {
                // The run of upserts of this row type whose keys differ.
                var valuesLimit = Math.Min(MaxRowsPerStatement, Math.Max(1, 60_000 / statements._columns.Length));
                var limit = statements._arraysRefused ? valuesLimit : MaxRowsPerArrayStatement;
                var end = next + 1;
                while (end < rows.Count && end - next < limit && rows[end] is { IsDelete: false } same && same.Statements == statements)
                {
                    if (end == next + 1)
                    {
                        // A second row of the type: only now are keys worth comparing.
                        keys ??= new HashSet<object?[]>(KeyComparer.Instance);
                        keys.Clear();
                        keys.Add(statements.KeyOf(change.Row!));
                    }
                    if (!keys!.Add(statements.KeyOf(same.Row!))) break;
                    end++;
                }
                if (end - next == 1)
                {
                    command.CommandText = statements._upsert;
                    for (var i = 0; i < statements._columns.Length; i++)
                        command.Parameters.Add(Parameter(db, command, statements._columns[i], ParameterName("p", i), change.Row!));
                }
                else
                {
                    var insert = insertsFirst && statements.TakeInsertFirst();
                    var run = new object[end - next];
                    for (var r = 0; r < run.Length; r++) run[r] = rows[next + r].Row!;
                    var arrays = persistence.BindRowArrays(db, command, statements._insertInto, statements._columns, run, insert ? "" : statements._upsertTail);
                    statements._arraysRefused = !arrays;
                    if (!arrays)
                    {
                        // Multi-row VALUES: as many rows as one statement's parameters allow.
                        end = Math.Min(end, next + valuesLimit);
                        var (sql, names) = statements.MultiRow(end - next, insert);
                        command.CommandText = sql;
                        var columns = statements._columns;
                        for (var r = next; r < end; r++)
                            for (var i = 0; i < columns.Length; i++)
                                command.Parameters.Add(Parameter(db, command, columns[i], names[(r - next) * columns.Length + i], rows[r].Row!));
                    }
                    if (insert) (tried ??= []).Add(statements);
                }
                next = end;
            }
            batch.BatchCommands.Add(command);
        }
        if (tried is { Count: > 0 })
        {
            var begin = batch.CreateBatchCommand();
            begin.CommandText = "SAVEPOINT " + Savepoint;
            batch.BatchCommands.Insert(0, begin);
            var release = batch.CreateBatchCommand();
            release.CommandText = "RELEASE SAVEPOINT " + Savepoint;
            batch.BatchCommands.Add(release);
        }
        if (next == rows.Count && tracking is not null)
        {
            move = store.Statements.MoveTrackingCommand(batch, tracking);
            batch.BatchCommands.Add(move);
        }
        return batch;
    }

    private static DbParameter Parameter(DataConnection db, DbBatchCommand command, ColumnDescriptor column, string name, object row)
    {
        var parameter = command.CreateParameter();
        SetParameter(db, parameter, column, name, row);
        return parameter;
    }

    private static void SetParameter(DataConnection db, DbParameter parameter, ColumnDescriptor column, string name, object row)
    {
        var value = column.GetProviderValue(row);
        var type = column.GetDbDataType(true);
        if (type.DataType == DataType.Undefined && value is not null)
            type = type.WithDataType(db.MappingSchema.GetDataType(value.GetType()).Type.DataType);
        db.DataProvider.SetParameter(db, parameter, name, type, value);
    }

    /// <summary>Runs a held command of the connection, its parameters set by LinqToDB's provider as for its own statements.</summary>
    private static void Execute(DataConnection db, DbConnection connection, ConditionalWeakTable<DbConnection, DbCommand> commands, string sql, ColumnDescriptor[] columns, string prefix, object row)
    {
        if (!commands.TryGetValue(connection, out var command))
        {
            command = connection.CreateCommand();
            command.CommandText = sql;
            for (var i = 0; i < columns.Length; i++) command.Parameters.Add(command.CreateParameter());
            commands.AddOrUpdate(connection, command);
        }
        command.Transaction = db.Transaction;
        for (var i = 0; i < columns.Length; i++) SetParameter(db, command.Parameters[i], columns[i], ParameterName(prefix, i), row);
        command.ExecuteNonQuery();
    }

    // Named as they stand in the SQL, so Microsoft.Data.Sqlite binds each with one look-up.
    private static readonly string[] s_p = [.. Enumerable.Range(0, 64).Select(i => "@p" + i.ToString(System.Globalization.CultureInfo.InvariantCulture))];
    private static readonly string[] s_k = [.. Enumerable.Range(0, 64).Select(i => "@k" + i.ToString(System.Globalization.CultureInfo.InvariantCulture))];

    private static string ParameterName(string prefix, int i) =>
        i < 64 ? (prefix == "p" ? s_p : s_k)[i] : "@" + prefix + i.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static DataParameter[] Parameters(ColumnDescriptor[] columns, string prefix, object row)
    {
        var parameters = new DataParameter[columns.Length];
        for (var i = 0; i < columns.Length; i++)
        {
            var column = columns[i];
            parameters[i] = new DataParameter(prefix + i.ToString(System.Globalization.CultureInfo.InvariantCulture), column.GetProviderValue(row))
            {
                DbDataType = column.GetDbDataType(true),
            };
        }
        return parameters;
    }

    // Names as LinqToDB's CreateTable writes them: quoted, case kept.
    private static string Quote(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
