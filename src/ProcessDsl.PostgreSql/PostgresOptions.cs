namespace ProcessDsl;

/// <summary>Settings of a PostgreSQL store (<c>Persistence.Postgres</c>).</summary>
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

    /// <summary>
    /// Whether each append that stores events also sends <c>NOTIFY</c> on <see cref="NotifyChannel"/>
    /// with the payload <c>"Application:lastNotificationId"</c>, inside the append transaction (so it
    /// is delivered if and only if the events commit). On by default; <see cref="PostgresPromptListener"/>
    /// receives these prompts in any process connected to the same database.
    /// </summary>
    public bool Notify { get; init; } = true;

    /// <summary>
    /// The <c>LISTEN/NOTIFY</c> channel of this store (default <c>processdsl</c>); give each system its
    /// own when several share a database. A lower-case identifier, like a schema name.
    /// </summary>
    public string NotifyChannel { get; init; } = "processdsl";
}
