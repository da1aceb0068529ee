using System.Data;
using System.Data.Common;
using LinqToDB.Data;

namespace ProcessDsl;

/// <summary>
/// The statements of one held connection, each built once and kept: executing one again only binds
/// new values, so the database reuses its prepared statement and nothing translates a query. Every
/// command joins the connection's current LinqToDB transaction, so a processing step's own reads,
/// appends and projection rows (written through LinqToDB on the same <see cref="Db"/>) are one unit.
/// </summary>
/// <remarks>Not thread-safe: a connection is used by one caller at a time.</remarks>
public sealed class StoreCommands : IDisposable
{
    private readonly Dictionary<string, PreparedCommand> _commands = new(StringComparer.Ordinal);

    private readonly DbType _guidType;

    internal StoreCommands(DataConnection db, DbType guidType)
    {
        Db = db;
        _guidType = guidType;
    }

    /// <summary>The LinqToDB connection the commands run on (projection rows use it directly).</summary>
    public DataConnection Db { get; }

    /// <summary>The statement with this text, created on first use with parameters of the given names and types.</summary>
    public PreparedCommand Prepare(string sql, params (string Name, DbType Type)[] parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return Prepare(sql, new ReadOnlySpan<(string Name, DbType Type)>(parameters));
    }

    /// <summary>
    /// The statement with this text, created on first use with parameters of the given names and types.
    /// Allocates nothing when the statement exists (a <c>params</c> span lives on the caller's stack).
    /// </summary>
    public PreparedCommand Prepare(string sql, params ReadOnlySpan<(string Name, DbType Type)> parameters)
    {
        ArgumentNullException.ThrowIfNull(sql);
        return _commands.TryGetValue(sql, out var existing) ? existing : Create(sql, parameters.ToArray());
    }

    /// <summary>Creates a statement with parameters of the given names and types (a method of its own, so only a miss allocates the closure).</summary>
    private PreparedCommand Create(string sql, (string Name, DbType Type)[] parameters) =>
        Prepare(sql, command =>
        {
            foreach (var (name, type) in parameters)
            {
                var parameter = command.CreateParameter();
                // Named as it stands in the SQL (@name): Microsoft.Data.Sqlite then binds it with one
                // look-up instead of trying each prefix; Npgsql takes either form.
                parameter.ParameterName = name.StartsWith('@') ? name : "@" + name;
                // A Guid is bound as the provider says (SQLite: the 16-byte BLOB LinqToDB writes; PostgreSQL: uuid).
                parameter.DbType = type == DbType.Guid ? _guidType : type;
                command.Parameters.Add(parameter);
            }
        });

    /// <summary>The statement with this text, created on first use and its parameters added by <paramref name="define"/>.</summary>
    public PreparedCommand Prepare(string sql, Action<DbCommand> define)
    {
        ArgumentNullException.ThrowIfNull(sql);
        ArgumentNullException.ThrowIfNull(define);
        if (_commands.TryGetValue(sql, out var existing)) return existing;
        var command = Db.OpenDbConnection().CreateCommand();
        command.CommandText = sql;
        define(command);
        var prepared = new PreparedCommand(this, command);
        _commands.Add(sql, prepared);
        return prepared;
    }

    internal DbTransaction? Transaction => Db.Transaction;

    internal bool GuidsAsBytes => _guidType == DbType.Binary;

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var command in _commands.Values) command.Dispose();
        _commands.Clear();
        Db.Dispose();
    }
}

/// <summary>One statement of a held connection: set its parameters by position, then execute it.</summary>
public sealed class PreparedCommand : IDisposable
{
    private readonly StoreCommands _owner;

    internal PreparedCommand(StoreCommands owner, DbCommand command)
    {
        _owner = owner;
        Command = command;
    }

    /// <summary>The ADO.NET command (for providers that bind special parameter types).</summary>
    public DbCommand Command { get; }

    /// <summary>Sets parameter <paramref name="index"/>; returns this command for chaining.</summary>
    public PreparedCommand Set(int index, object? value)
    {
        if (value is Guid guid && _owner.GuidsAsBytes) value = guid.ToByteArray();
        Command.Parameters[index].Value = value ?? DBNull.Value;
        return this;
    }

    /// <summary>Executes the statement in the connection's current transaction; returns the rows affected.</summary>
    public int ExecuteNonQuery()
    {
        Command.Transaction = _owner.Transaction;
        return Command.ExecuteNonQuery();
    }

    /// <summary>Executes the statement; returns the first column of the first row (null for none or SQL NULL).</summary>
    public object? ExecuteScalar()
    {
        Command.Transaction = _owner.Transaction;
        var value = Command.ExecuteScalar();
        return value is DBNull ? null : value;
    }

    /// <summary>Executes the statement in the connection's current transaction without blocking a thread; returns the rows affected.</summary>
    public Task<int> ExecuteNonQueryAsync(CancellationToken cancellationToken = default)
    {
        Command.Transaction = _owner.Transaction;
        return Command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Executes the statement without blocking a thread; returns the first column of the first row (null for none or SQL NULL).</summary>
    public async Task<object?> ExecuteScalarAsync(CancellationToken cancellationToken = default)
    {
        Command.Transaction = _owner.Transaction;
        var value = await Command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return value is DBNull ? null : value;
    }

    /// <summary>Executes the statement and reads its rows, without blocking a thread while it runs.</summary>
    public Task<DbDataReader> ExecuteReaderAsync(CancellationToken cancellationToken = default)
    {
        Command.Transaction = _owner.Transaction;
        return Command.ExecuteReaderAsync(cancellationToken);
    }

    /// <summary>Executes the statement and reads its rows.</summary>
    public DbDataReader ExecuteReader()
    {
        Command.Transaction = _owner.Transaction;
        return Command.ExecuteReader();
    }

    /// <inheritdoc/>
    public void Dispose() => Command.Dispose();
}
