using System.Text;
using System.Text.RegularExpressions;

namespace ProcessDsl;

/// <summary>
/// Validates the names that become SQL identifiers (application names, table names). Values never
/// reach SQL text; these names do, so they are restricted to letters, digits and underscores.
/// </summary>
public static partial class Identifiers
{
    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_]{0,47}$")]
    private static partial Regex ApplicationName();

    [GeneratedRegex("^[a-z][a-z0-9_]{0,62}$")]
    private static partial Regex SqlName();

    /// <summary>Checks an application name (a C# identifier without exotic characters, at most 48 long).</summary>
    public static string ValidateApplicationName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!ApplicationName().IsMatch(name))
            throw new ArgumentException(
                $"Application name '{name}' is not usable as a table name: use a letter followed by letters, digits or underscores (at most 48).",
                nameof(name));
        return name;
    }

    /// <summary>Checks a lower-case SQL identifier (schema or table name).</summary>
    public static string ValidateSqlName(string name, string what)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!SqlName().IsMatch(name))
            throw new ArgumentException($"{what} '{name}' is not a valid identifier: use lower-case letters, digits and underscores, starting with a letter (at most 63).");
        return name;
    }

    /// <summary><c>OrderSummaries</c> to <c>order_summaries</c>.</summary>
    public static string SnakeCase(string name)
    {
        ValidateApplicationName(name);
        var sb = new StringBuilder(name.Length + 8);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsUpper(c))
            {
                var previousIsLowerOrDigit = i > 0 && (char.IsLower(name[i - 1]) || char.IsDigit(name[i - 1]));
                var nextIsLower = i + 1 < name.Length && char.IsLower(name[i + 1]);
                if (i > 0 && name[i - 1] != '_' && (previousIsLowerOrDigit || (nextIsLower && char.IsUpper(name[i - 1]))))
                    sb.Append('_');
                sb.Append(char.ToLowerInvariant(c));
            }
            else
            {
                sb.Append(c);
            }
        }
        return sb.ToString();
    }
}
