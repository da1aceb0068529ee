using System.Diagnostics.CodeAnalysis;
using System.Text;
using LinqToDB;
using LinqToDB.Data;
using LinqToDB.Mapping;
using Npgsql;
using NpgsqlTypes;

namespace ProcessDsl;

/// <summary>
/// Many projection rows of one type as one statement: one array parameter per column, unnested by
/// the server (<c>INSERT INTO t (a, b) SELECT * FROM unnest(@a0, @a1) ...</c>). The statement's text
/// does not depend on how many rows it carries, so Npgsql prepares it once per connection, and the
/// client binds one parameter per column instead of one per value.
/// </summary>
internal static class PostgresRowArrays
{
    /// <summary>
    /// Provider values LinqToDB's PostgreSQL provider passes to Npgsql unchanged whatever the column's
    /// data type says (it converts date and time values, dictionaries, LinqToDB's own binary type, and
    /// values bound for a text column): arrays of them are built from the row values directly.
    /// </summary>
    private static readonly HashSet<Type> s_asIs =
    [
        typeof(Guid), typeof(int), typeof(long), typeof(short), typeof(byte), typeof(bool),
        typeof(double), typeof(float), typeof(decimal), typeof(string), typeof(byte[]),
    ];

    /// <summary>Binds <paramref name="command"/> (see <see cref="Persistence.BindRowArrays"/>); false, binding nothing, when a column's values cannot go as one array.</summary>
    public static bool Bind(DataConnection db, System.Data.Common.DbBatchCommand command, string insertInto, IReadOnlyList<ColumnDescriptor> columns, IReadOnlyList<object> rows, string onConflict)
    {
        var parameters = new NpgsqlParameter[columns.Count];
        for (var c = 0; c < columns.Count; c++)
        {
            if (ArrayOf(db, columns[c], rows) is not { } array) return false;
            parameters[c] = new NpgsqlParameter("a" + c.ToString(System.Globalization.CultureInfo.InvariantCulture), NpgsqlDbType.Array | array.ElementType) { Value = array.Values };
        }
        var sql = new StringBuilder(insertInto).Append(" SELECT * FROM unnest(");
        for (var c = 0; c < columns.Count; c++) sql.Append(c == 0 ? "@a" : ", @a").Append(c);
        command.CommandText = sql.Append(')').Append(onConflict).ToString();
        command.Parameters.AddRange(parameters);
        return true;
    }

    /// <summary>
    /// One column's values of all rows, as LinqToDB would bind each (its provider value, converted by
    /// its PostgreSQL provider), in a typed array with the element type LinqToDB gives the column; null
    /// when Npgsql could not take them as one array (no known element type, mixed value types, values
    /// that are themselves arrays).
    /// </summary>
    [UnconditionalSuppressMessage("AotAnalysis", "IL3050", Justification = "PostgresPersistence refuses to be created where dynamic code is not supported (Native AOT), so this never runs there.")]
    [UnconditionalSuppressMessage("Trimming", "IL2055", Justification = "Nullable<T> of a provider value type, which the program has already created values of.")]
    private static (Array Values, NpgsqlDbType ElementType)? ArrayOf(DataConnection db, ColumnDescriptor column, IReadOnlyList<object> rows)
    {
        var n = rows.Count;
        var values = new object?[n];
        object? sample = null;
        for (var r = 0; r < n; r++)
        {
            var value = column.GetProviderValue(rows[r]);
            if (value is DBNull) value = null;
            values[r] = value;
            sample ??= value;
        }
        if (sample is Array and not byte[]) return null;   // an array column: unnest would flatten it

        var type = column.GetDbDataType(true);
        if (type.DataType == DataType.Undefined && sample is not null)
            type = type.WithDataType(db.MappingSchema.GetDataType(sample.GetType()).Type.DataType);
        var scratch = new NpgsqlParameter();
        db.DataProvider.SetParameter(db, scratch, "p", type, sample);
        NpgsqlDbType elementType;
        try
        {
            elementType = scratch.NpgsqlDbType;
        }
        catch (Exception ex) when (ex is InvalidOperationException or NotSupportedException or ArgumentException)
        {
            return null;
        }
        if (elementType == NpgsqlDbType.Unknown || (elementType & (NpgsqlDbType.Array | NpgsqlDbType.Range | NpgsqlDbType.Multirange)) != 0) return null;

        Type? clr = null;
        var nulls = false;
        var asIs = sample is not null && s_asIs.Contains(sample.GetType());
        for (var r = 0; r < n; r++)
        {
            var value = values[r];
            if (!asIs && value is not null)
            {
                // Converted as LinqToDB converts the parameter of one row (date and time kinds, for one).
                db.DataProvider.SetParameter(db, scratch, "p", type, value);
                value = scratch.Value is DBNull ? null : scratch.Value;
                values[r] = value;
            }
            if (value is null)
            {
                nulls = true;
                continue;
            }
            if (clr is null) clr = value.GetType();
            else if (value.GetType() != clr) return null;
        }
        if (clr is null)
        {
            // All null: the column's own type says what kind of array.
            clr = Nullable.GetUnderlyingType(type.SystemType) ?? type.SystemType;
            if (clr == typeof(object)) return null;
        }
        var element = nulls && clr.IsValueType ? typeof(Nullable<>).MakeGenericType(clr) : clr;
        var array = Array.CreateInstance(element, n);
        for (var r = 0; r < n; r++)
            if (values[r] is { } value) array.SetValue(value, r);
        return (array, elementType);
    }
}
