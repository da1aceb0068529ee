namespace ProcessDsl;

/// <summary>
/// Parses store descriptions as command lines and worker processes pass them:
/// <c>sqlite:DIR</c>, <c>sqlite-normal:DIR</c> (synchronous=NORMAL), <c>memory</c>, <c>postgres:CONNECTION-STRING</c>.
/// </summary>
public static class StoreSpec
{
    /// <summary>Opens the store a description names.</summary>
    /// <exception cref="ArgumentException">The description is not one of the known forms.</exception>
    public static Persistence Open(string spec)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(spec);
        if (spec == "memory") return Persistence.InMemory();
        var colon = spec.IndexOf(':');
        var kind = colon < 0 ? spec : spec[..colon];
        var rest = colon < 0 ? "" : spec[(colon + 1)..];
        return kind switch
        {
            "sqlite" when rest.Length > 0 => Persistence.Sqlite(rest),
            "sqlite-normal" when rest.Length > 0 => Persistence.Sqlite(rest, SqliteDurability.Normal),
            "postgres" when rest.Length > 0 => Persistence.Postgres(rest),
            _ => throw new ArgumentException(
                $"Unknown store '{spec}': use sqlite:DIR, sqlite-normal:DIR, memory or postgres:CONNECTION-STRING.", nameof(spec)),
        };
    }
}
