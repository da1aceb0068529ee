using Microsoft.Data.Sqlite;
using Npgsql;

namespace ProcessDsl.Postgres.Tests.Support;

/// <summary>
/// One test's own store: SQLite files in a fresh temporary folder, or a fresh PostgreSQL schema.
/// <see cref="Open"/> gives independent instances (own connections, pools and caches), as separate
/// processes would have; everything is removed on dispose.
/// </summary>
public sealed class TestStore : IDisposable
{
    private readonly List<Persistence> _opened = [];
    private Persistence? _memory;

    private TestStore(StoreLocation location) => Location = location;

    public StoreLocation Location { get; }

    public bool IsPostgres => Location.Kind == StoreLocation.Postgres;

    /// <summary>SQLite files behind a wrapping provider of this test project (see <see cref="FaultyCommits"/>, injecting nothing).</summary>
    public const string Wrapped = "wrapped";

    private bool _wrapped;

    public static TestStore Create(string kind)
    {
        if (kind == Wrapped)
        {
            var store = Create(StoreLocation.Sqlite);
            store._wrapped = true;
            return store;
        }
        if (kind == StoreLocation.Memory) return new TestStore(new StoreLocation(StoreLocation.Memory, "memory", null)) { _memory = Persistence.InMemory() };
        if (kind == StoreLocation.Sqlite)
        {
            var directory = Path.Combine(Path.GetTempPath(), "processdsl-pgtests", Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(directory);
            return new TestStore(new StoreLocation(StoreLocation.Sqlite, directory, null));
        }
        var connectionString = PostgresServer.ConnectionString ?? throw new InvalidOperationException(PostgresServer.SkipReason);
        return new TestStore(new StoreLocation(StoreLocation.Postgres, connectionString, "t_" + Guid.NewGuid().ToString("N")));
    }

    /// <summary>A new store instance on the same data.</summary>
    public Persistence Open()
    {
        // Nothing else can see an in-memory store: every "instance" is the one store.
        if (_memory is not null) return _memory;
        var store = _wrapped ? new FaultyCommits(Location.Open()) : Location.Open();
        lock (_opened) _opened.Add(store);
        return store;
    }

    public Bank OpenBank(Persistence store, int sectionSize = NotificationLog.DefaultSectionSize) =>
        (Bank)new Bank().Open(store, new ApplicationOptions { SectionSize = sectionSize });

    /// <summary>Runs a statement directly on an application's tables (to tamper with stored events); values as parameters.</summary>
    public void Execute(string application, string sql, params (string Name, object Value)[] parameters)
    {
        if (IsPostgres)
        {
            var builder = new NpgsqlConnectionStringBuilder(Location.Location) { SearchPath = Location.Schema, Pooling = false };
            PostgresServer.Execute(builder.ConnectionString, sql, parameters);
            return;
        }
        var file = Path.Combine(Location.Location, application.ToLowerInvariant() + ".db");
        using var connection = new SqliteConnection($"Data Source={file}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        command.ExecuteNonQuery();
    }

    public void Dispose()
    {
        _memory?.Dispose();
        lock (_opened)
        {
            foreach (var store in _opened) store.Dispose();
            _opened.Clear();
        }
        if (IsPostgres)
        {
            PostgresServer.Execute($"DROP SCHEMA IF EXISTS {Location.Schema} CASCADE"); // a generated identifier
            return;
        }
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(Location.Location, recursive: true);
        }
        catch (IOException)
        {
            // Left for the OS to clean.
        }
    }
}
