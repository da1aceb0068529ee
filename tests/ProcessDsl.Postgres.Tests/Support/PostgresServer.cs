using System.Reflection;
using Npgsql;
using Xunit.Sdk;

namespace ProcessDsl.Postgres.Tests.Support;

/// <summary>The PostgreSQL server the tests use, named by the PROCESSDSL_POSTGRES environment variable.</summary>
public static class PostgresServer
{
    public const string Variable = "PROCESSDSL_POSTGRES";

    public const string SkipReason =
        "No PostgreSQL server: set PROCESSDSL_POSTGRES to an Npgsql connection string (eval \"$(.ci/postgres.sh)\" starts a throwaway one).";

    /// <summary>The connection string, or null when the variable is not set.</summary>
    public static string? ConnectionString =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } value ? value : null;

    /// <summary>The skip reason when there is no server, else null.</summary>
    public static string? Skip => ConnectionString is null ? SkipReason : null;

    /// <summary>The server's connection string with another database.</summary>
    public static string WithDatabase(string database) =>
        new NpgsqlConnectionStringBuilder(Required) { Database = database }.ConnectionString;

    /// <summary>Runs a statement on the server's database; values only as parameters.</summary>
    public static void Execute(string sql, params (string Name, object Value)[] parameters) => Execute(Required, sql, parameters);

    public static void Execute(string connectionString, string sql, params (string Name, object Value)[] parameters)
    {
        using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        command.ExecuteNonQuery();
    }

    public static T Scalar<T>(string connectionString, string sql, params (string Name, object Value)[] parameters)
    {
        using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        return (T)command.ExecuteScalar()!;
    }

    /// <summary>A fresh, uniquely named database (dropped by the caller).</summary>
    public static string CreateDatabase()
    {
        var name = "t_" + Guid.NewGuid().ToString("N");
        Execute($"CREATE DATABASE {name}"); // a generated identifier, not a value
        return name;
    }

    public static void DropDatabase(string name)
    {
        Execute($"DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    }

    private static string Required => ConnectionString ?? throw new InvalidOperationException(SkipReason);
}

/// <summary>A fact that needs PostgreSQL: reported as skipped, with the reason, when there is none.</summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (PostgresServer.Skip is { } reason) Skip = reason;
    }
}

/// <summary>Runs a theory on the SQLite store (argument <c>"sqlite"</c>).</summary>
/// <summary>Runs a theory on SQLite behind <see cref="FaultyCommits"/>, a provider outside the library's assembly (argument <c>"wrapped"</c>).</summary>
public sealed class WrappedStoreAttribute : DataAttribute
{
    public override IEnumerable<object[]> GetData(MethodInfo testMethod) => [[TestStore.Wrapped]];
}

/// <summary>Runs a theory on <see cref="Persistence.InMemory"/> (argument <c>"memory"</c>): one store instance shared by the whole test.</summary>
public sealed class MemoryStoreAttribute : DataAttribute
{
    public override IEnumerable<object[]> GetData(MethodInfo testMethod) => [[StoreLocation.Memory]];
}

/// <summary>Runs a theory on the SQLite store (argument <c>"sqlite"</c>).</summary>
public sealed class SqliteStoreAttribute : DataAttribute
{
    public override IEnumerable<object[]> GetData(MethodInfo testMethod) => [[StoreLocation.Sqlite]];
}

/// <summary>
/// Runs a theory on the PostgreSQL store (argument <c>"postgres"</c>); that row is reported as
/// skipped, with the reason, when PROCESSDSL_POSTGRES is not set.
/// </summary>
public sealed class PostgresStoreAttribute : DataAttribute
{
    public PostgresStoreAttribute()
    {
        if (PostgresServer.Skip is { } reason) Skip = reason;
    }

    public override IEnumerable<object[]> GetData(MethodInfo testMethod) => [[StoreLocation.Postgres]];
}
