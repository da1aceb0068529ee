namespace ProcessDsl;

/// <summary>Settings of a PostgreSQL store (<see cref="Persistence.Postgres"/>).</summary>
public sealed record PostgresOptions
{
    /// <summary>
    /// The schema every application lives in unless <see cref="Schemas"/> names another; null (the
    /// default) keeps the connection's own <c>search_path</c> (normally <c>public</c>). Created on start
    /// if missing. Lower-case letters, digits and underscores, starting with a letter.
    /// </summary>
    public string? Schema { get; init; }

    /// <summary>
    /// Per-application schemas, keyed by application name (e.g. <c>"Orders" = "orders"</c>), so each
    /// application may live in its own schema. An application's events, tracking records and
    /// projection rows all go there; followers read upstream logs in their own schemas.
    /// </summary>
    public IReadOnlyDictionary<string, string> Schemas { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// Per-application connection strings, keyed by application name, for applications that live in
    /// another database (or on another server) than the default connection string names.
    /// </summary>
    public IReadOnlyDictionary<string, string> ConnectionStrings { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);
}
