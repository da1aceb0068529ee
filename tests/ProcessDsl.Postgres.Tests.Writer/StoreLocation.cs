namespace ProcessDsl.Postgres.Tests;

/// <summary>
/// Where a test's store lives, in a form that can be passed to a child process on its command line:
/// <c>sqlite DIR</c> or <c>postgres CONNECTION-STRING SCHEMA</c>.
/// </summary>
public sealed record StoreLocation(string Kind, string Location, string? Schema)
{
    public const string Sqlite = "sqlite";
    public const string Postgres = "postgres";
    public const string Memory = "memory";

    /// <summary>Opens a new store instance (its own connections, pools and caches).</summary>
    public Persistence Open() => Kind switch
    {
        Sqlite => Persistence.Sqlite(Location),
        // Each test's schema is also its NOTIFY channel, so tests sharing a database never prompt each other.
        Postgres => Persistence.Postgres(Location, new PostgresOptions { Schema = Schema, NotifyChannel = Schema ?? "processdsl" }),
        _ => throw new ArgumentException($"Unknown store kind '{Kind}'."),
    };

    public IEnumerable<string> ToArgs() => Kind == Postgres ? [Kind, Location, Schema ?? "-"] : [Kind, Location];

    /// <summary>Reads a location from the front of <paramref name="args"/>; returns how many were used.</summary>
    public static (StoreLocation Location, int Used) Parse(IReadOnlyList<string> args) => args[0] switch
    {
        Sqlite => (new StoreLocation(Sqlite, args[1], null), 2),
        Postgres => (new StoreLocation(Postgres, args[1], args[2] == "-" ? null : args[2]), 3),
        _ => throw new ArgumentException($"Unknown store kind '{args[0]}'."),
    };

    public override string ToString() => Kind == Postgres ? $"postgres schema {Schema}" : $"sqlite {Location}";
}
