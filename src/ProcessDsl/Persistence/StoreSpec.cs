using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace ProcessDsl;

/// <summary>
/// Parses store descriptions as command lines, configuration and worker processes pass them:
/// <c>sqlite:DIR</c>, <c>sqlite-normal:DIR</c> (synchronous=NORMAL), <c>sqlite-off:DIR</c> (no fsync),
/// <c>memory</c>, and the schemes providers register (<c>postgres:CONNECTION-STRING</c> from
/// ProcessDsl.PostgreSql, found by itself when that package is deployed with the program).
/// </summary>
public static class StoreSpec
{
    private static readonly ConcurrentDictionary<string, Func<string, Persistence>> s_schemes = new(StringComparer.Ordinal)
    {
        ["sqlite"] = rest => Persistence.Sqlite(rest),
        ["sqlite-normal"] = rest => Persistence.Sqlite(rest, SqliteDurability.Normal),
        ["sqlite-off"] = rest => Persistence.Sqlite(rest, SqliteDurability.Off),
    };

    // Schemes whose provider lives in a package of its own, loaded on first use.
    private static readonly Dictionary<string, (string Assembly, string Type)> s_known = new(StringComparer.Ordinal)
    {
        ["postgres"] = ("ProcessDsl.PostgreSql", "ProcessDsl.PostgresPersistence"),
    };

    /// <summary>Registers a provider's scheme: <c>scheme:REST</c> opens <paramref name="open"/>(REST).</summary>
    public static void Register(string scheme, Func<string, Persistence> open)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(scheme);
        ArgumentNullException.ThrowIfNull(open);
        s_schemes[scheme] = open;
    }

    /// <summary>Opens the store a description names.</summary>
    /// <exception cref="ArgumentException">The description is not one of the known forms.</exception>
    public static Persistence Open(string spec)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(spec);
        if (spec == "memory") return Persistence.InMemory();
        var colon = spec.IndexOf(':');
        var scheme = colon < 0 ? spec : spec[..colon];
        var rest = colon < 0 ? "" : spec[(colon + 1)..];
        if (rest.Length > 0 && Find(scheme) is { } open) return open(rest);
        throw new ArgumentException(
            $"Unknown store '{Describe(spec)}': use sqlite:DIR, sqlite-normal:DIR, memory or postgres:CONNECTION-STRING" +
            (scheme == "postgres" ? " (postgres needs the ProcessDsl.PostgreSql package next to the program)." : "."), nameof(spec));
    }

    private static Func<string, Persistence>? Find(string scheme)
    {
        if (s_schemes.TryGetValue(scheme, out var open)) return open;
        if (!s_known.TryGetValue(scheme, out var provider)) return null;
        try
        {
            // The provider's module initializer registers its scheme.
            var type = Assembly.Load(provider.Assembly).GetType(provider.Type, throwOnError: true)!;
            RuntimeHelpers.RunModuleConstructor(type.Module.ModuleHandle);
        }
        catch (Exception ex) when (ex is FileNotFoundException or FileLoadException or TypeLoadException or BadImageFormatException)
        {
            return null;
        }
        return s_schemes.TryGetValue(scheme, out open) ? open : null;
    }

    // A spec may carry a password: never repeat it in an error.
    private static string Describe(string spec) => spec.Length > 40 ? spec[..40] + "..." : spec;
}
