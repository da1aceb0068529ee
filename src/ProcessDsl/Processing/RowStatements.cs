using System.Collections.Concurrent;
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

    public void Save(DataConnection db, object row) => db.Execute(_upsert, Parameters(_columns, "p", row));

    public void Delete(DataConnection db, object row) => db.Execute(_delete, Parameters(_keys, "k", row));

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
