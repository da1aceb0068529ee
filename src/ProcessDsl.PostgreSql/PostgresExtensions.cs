namespace ProcessDsl;

/// <summary>Adds <c>Persistence.Postgres(...)</c> wherever this package is referenced.</summary>
public static class PostgresExtensions
{
    extension(Persistence)
    {
        /// <summary>PostgreSQL at <paramref name="connectionString"/> (an Npgsql connection string), pooled; see <see cref="PostgresPersistence"/>.</summary>
        public static PostgresPersistence Postgres(string connectionString, PostgresOptions? options = null) =>
            new(connectionString, options);
    }
}
