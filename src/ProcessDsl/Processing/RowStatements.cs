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
        _upsert = $"INSERT INTO {table} ({names}) VALUES ({values}) ON CONFLICT ({keys}) " + (others.Count == 0 ? "DO NOTHING" : "DO UPDATE SET " + string.Join(", ", others));
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

    /// <summary>The most row writes sent in one batch (one round trip each).</summary>
    internal const int BatchSize = 256;

    /// <summary>
    /// Writes a step's row changes, in order, in batches of statements each sent in one round trip,
    /// when the provider's connection supports ADO.NET batches (Npgsql does; Microsoft.Data.Sqlite,
    /// in process, gains nothing from them and does not) and every change has statements built once.
    /// Returns false, having written nothing, otherwise: the caller then applies them one by one.
    /// </summary>
    public static bool Batch(DataConnection db, IReadOnlyList<RowChange> rows)
    {
        var connection = db.OpenDbConnection();
        if (!connection.CanCreateBatch) return false;
        foreach (var row in rows)
            if (row.Statements is null) return false;
        for (var start = 0; start < rows.Count; start += BatchSize)
        {
            using var batch = connection.CreateBatch();
            batch.Transaction = db.Transaction;
            var end = Math.Min(rows.Count, start + BatchSize);
            for (var r = start; r < end; r++)
            {
                var change = rows[r];
                var statements = change.Statements!;
                var command = batch.CreateBatchCommand();
                var columns = change.IsDelete ? statements._keys : statements._columns;
                command.CommandText = change.IsDelete ? statements._delete : statements._upsert;
                for (var i = 0; i < columns.Length; i++)
                {
                    var parameter = command.CreateParameter();
                    SetParameter(db, parameter, columns[i], change.IsDelete ? "k" : "p", i, change.Row!);
                    command.Parameters.Add(parameter);
                }
                batch.BatchCommands.Add(command);
            }
            batch.ExecuteNonQuery();
        }
        return true;
    }

    private static void SetParameter(DataConnection db, DbParameter parameter, ColumnDescriptor column, string prefix, int i, object row)
    {
        var value = column.GetProviderValue(row);
        var type = column.GetDbDataType(true);
        if (type.DataType == DataType.Undefined && value is not null)
            type = type.WithDataType(db.MappingSchema.GetDataType(value.GetType()).Type.DataType);
        db.DataProvider.SetParameter(db, parameter, ParameterName(prefix, i), type, value);
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
        for (var i = 0; i < columns.Length; i++) SetParameter(db, command.Parameters[i], columns[i], prefix, i, row);
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
