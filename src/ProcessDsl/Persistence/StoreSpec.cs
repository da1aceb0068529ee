using System.Collections.Concurrent;
using System.Data.Common;
using System.Runtime.CompilerServices;
using LinqToDB.Data;

namespace ProcessDsl;

/// <summary>
/// Parses store descriptions as command lines and worker processes pass them:
/// <c>sqlite:DIR</c>, <c>sqlite-normal:DIR</c> (synchronous=NORMAL), <c>memory</c>, <c>postgres:CONNECTION-STRING</c>.
/// </summary>
public static class StoreSpec
{
    /// <summary>What a spec may look like, for messages.</summary>
    public const string Forms = "sqlite:DIR, sqlite-normal:DIR, memory or postgres:CONNECTION-STRING";

    private static readonly ConcurrentDictionary<string, Func<string, Persistence>> s_schemes = new(StringComparer.Ordinal)
    {
        ["sqlite"] = rest => Persistence.Sqlite(rest),
        ["sqlite-normal"] = rest => Persistence.Sqlite(rest, SqliteDurability.Normal),
        ["sqlite-off"] = rest => Persistence.Sqlite(rest, SqliteDurability.Off),
    };

    /// <summary>Registers a provider's scheme: <c>scheme:REST</c> opens <paramref name="open"/>(REST).</summary>
    public static void Register(string scheme, Func<string, Persistence> open)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(scheme);
        ArgumentNullException.ThrowIfNull(open);
        s_schemes[scheme] = open;
    }

    /// <summary>Opens the store a description names (creating it on first use).</summary>
    /// <exception cref="ArgumentException">The description is not one of the known forms; the message says which are.</exception>
    public static Persistence Open(string spec)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(spec);
        if (spec == "memory") return Persistence.InMemory();
        var (kind, rest) = Split(spec);
        if (rest.Length > 0 && Find(kind) is { } open) return open(rest);
        throw new ArgumentException(
            $"Unknown store '{Redacted(spec)}': use {Forms}" +
            (kind == "postgres" ? " (postgres: needs the ProcessDsl.PostgreSql package next to the program)." : "."), nameof(spec));
    }

    private static Func<string, Persistence>? Find(string scheme)
    {
        if (s_schemes.TryGetValue(scheme, out var open)) return open;
        try
        {
            // A scheme whose provider lives in a package of its own: the provider's module initializer
            // registers it. Its type is named by a literal, so trimming and Native AOT keep it in a
            // program that references the package.
            var provider = scheme switch
            {
                "postgres" => Type.GetType("ProcessDsl.PostgresStoreSpec, ProcessDsl.PostgreSql", throwOnError: false),
                _ => null,
            };
            if (provider is null) return null;
            RuntimeHelpers.RunModuleConstructor(provider.Module.ModuleHandle);
        }
        catch (Exception ex) when (ex is FileNotFoundException or FileLoadException or TypeLoadException or BadImageFormatException)
        {
            return null;
        }
        return s_schemes.TryGetValue(scheme, out open) ? open : null;
    }

    /// <summary>
    /// Opens a store that must already hold <paramref name="applications"/>, for tools that only
    /// read (a status view, a log server): it never creates one. SQLite: the directory and each
    /// application's database file must exist; PostgreSQL: the server must answer and each
    /// application's events table must exist.
    /// </summary>
    /// <exception cref="ArgumentException">The description is not one of the known forms, or names <c>memory</c> (which is always new).</exception>
    /// <exception cref="StoreNotFoundException">The store, or an application in it, does not exist; the message says what is missing.</exception>
    /// <exception cref="StoreUnreachableException">The database server did not answer.</exception>
    public static Persistence OpenExisting(string spec, IEnumerable<string> applications)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(spec);
        ArgumentNullException.ThrowIfNull(applications);
        var names = applications.ToList();
        if (spec == "memory")
            throw new ArgumentException("A memory store is new every time, so there is no existing one to open: use sqlite:DIR or postgres:CONNECTION-STRING.", nameof(spec));
        var (kind, rest) = Split(spec);
        if (kind is "sqlite" or "sqlite-normal" or "sqlite-off" && rest.Length > 0)
        {
            var directory = Path.GetFullPath(rest);
            if (!Directory.Exists(directory))
                throw new StoreNotFoundException($"There is no store at {directory}: the directory does not exist (a store is created by running the system on it).");
        }
        var store = Open(spec);
        try
        {
            foreach (var application in names) Check(store, application);
            return store;
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    /// <summary>The message of a spec error without the parameter name .NET appends, for one-line output.</summary>
    internal static string Message(ArgumentException error) =>
        error.ParamName is { } name ? error.Message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal) : error.Message;

    private static void Check(Persistence store, string application)
    {
        Identifiers.ValidateApplicationName(application);
        if (store is SqlitePersistence sqlite)
        {
            var path = sqlite.DatabasePath(application);
            if (!File.Exists(path))
                throw new StoreNotFoundException($"The store {store.Description} has no application '{application}': {path} does not exist.");
            return;
        }
        // A server store: a plain query through the store's own connections, first that the server
        // answers, then that the events table is there.
        using var db = new DataConnection(store.QueryOptions(application));
        try
        {
            db.Execute<int>("SELECT 1");
        }
        catch (DbException ex)
        {
            throw new StoreUnreachableException($"The database of {store.Description} did not answer: {ex.Message}", ex);
        }
        catch (Exception ex) when (ex is IOException or TimeoutException or System.Net.Sockets.SocketException)
        {
            throw new StoreUnreachableException($"The database of {store.Description} did not answer: {ex.Message}", ex);
        }
        var events = store.TablesOf(application).Events;
        try
        {
            db.Execute<int>($"SELECT count(*) FROM {events} WHERE 1 = 0");
        }
        catch (DbException ex)
        {
            throw new StoreNotFoundException($"The store {store.Description} has no application '{application}': its table {events} does not exist ({ex.Message.Split('\n', 2)[0].Trim()}).", ex);
        }
    }

    private static (string Kind, string Value) Split(string spec)
    {
        var colon = spec.IndexOf(':');
        return colon < 0 ? (spec, "") : (spec[..colon], spec[(colon + 1)..]);
    }

    // A mistyped spec may still hold a password: show only its kind then.
    private static string Redacted(string spec) =>
        spec.Contains("password", StringComparison.OrdinalIgnoreCase) ? Split(spec).Kind + ":..." : spec;
}

/// <summary>A store opened with <see cref="StoreSpec.OpenExisting"/> does not exist, or does not hold an application named.</summary>
public sealed class StoreNotFoundException : Exception
{
    /// <summary>Creates the exception.</summary>
    public StoreNotFoundException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}

/// <summary>The database server of a store did not answer.</summary>
public sealed class StoreUnreachableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public StoreUnreachableException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
