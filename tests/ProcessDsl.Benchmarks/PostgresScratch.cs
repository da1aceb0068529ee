using Npgsql;

namespace ProcessDsl.Benchmarks;

/// <summary>
/// A database of its own for one run, created on the server a connection string names and dropped
/// (with any connections left to it) when disposed.
/// </summary>
internal sealed class PostgresScratch : IDisposable
{
    private readonly string _server;
    private readonly string _database;

    private PostgresScratch(string server, string database, string connectionString)
    {
        _server = server;
        _database = database;
        ConnectionString = connectionString;
    }

    /// <summary>The connection string of the new database.</summary>
    public string ConnectionString { get; }

    /// <summary>Creates a database named <c>bench_&lt;guid&gt;</c> on the server of <paramref name="connectionString"/>.</summary>
    public static PostgresScratch Create(string connectionString)
    {
        var database = "bench_" + Guid.NewGuid().ToString("N");
        Execute(connectionString, $"CREATE DATABASE {database}"); // a generated identifier
        return new PostgresScratch(connectionString, database,
            new NpgsqlConnectionStringBuilder(connectionString) { Database = database }.ConnectionString);
    }

    /// <summary>Runs one statement on its own unpooled connection.</summary>
    public static void Execute(string connectionString, string sql)
    {
        using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }

    /// <summary>Host, port and database only: never the password.</summary>
    public static string Describe(string connectionString)
    {
        var b = new NpgsqlConnectionStringBuilder(connectionString);
        return $"{b.Host}:{b.Port}/{b.Database}";
    }

    public void Dispose()
    {
        NpgsqlConnection.ClearAllPools();
        Execute(_server, $"DROP DATABASE IF EXISTS {_database} WITH (FORCE)");
    }
}
