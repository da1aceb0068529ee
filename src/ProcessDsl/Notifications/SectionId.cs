using System.Globalization;

namespace ProcessDsl;

/// <summary>
/// A numbered section id <c>"first,last"</c> of a notification log (1-based, inclusive), as in
/// <c>"1,10"</c>, <c>"11,20"</c>. Parsing checks the form; <see cref="Normalize"/> maps any id to
/// the section of the log's size that holds its first item.
/// </summary>
public readonly record struct SectionId(long First, long Last)
{
    /// <summary>The id of the section holding the newest notification.</summary>
    public const string Current = "current";

    /// <summary>The number of items the section spans.</summary>
    public long Length => Last - First + 1;

    /// <summary>
    /// Parses <c>"first,last"</c> where both are positive integers and first &lt;= last.
    /// </summary>
    /// <exception cref="ArgumentException">The id is malformed, with a message saying how.</exception>
    public static SectionId Parse(string sectionId)
    {
        if (TryParse(sectionId, out var id, out var error)) return id;
        throw new ArgumentException(error, nameof(sectionId));
    }

    /// <summary>Parses a section id, or says what is wrong with it.</summary>
    public static bool TryParse(string? sectionId, out SectionId id, out string error)
    {
        id = default;
        if (string.IsNullOrEmpty(sectionId))
        {
            error = "Section id is empty: expected 'current' or 'first,last' such as '1,10'.";
            return false;
        }
        var comma = sectionId.IndexOf(',');
        if (comma < 0 || sectionId.IndexOf(',', comma + 1) >= 0)
        {
            error = $"Section id '{Shorten(sectionId)}' is malformed: expected 'current' or two numbers 'first,last' such as '1,10'.";
            return false;
        }
        if (!TryParseNumber(sectionId.AsSpan(0, comma), out var first) || !TryParseNumber(sectionId.AsSpan(comma + 1), out var last))
        {
            error = $"Section id '{Shorten(sectionId)}' is malformed: 'first' and 'last' must be whole numbers from 1 to {long.MaxValue}.";
            return false;
        }
        if (first < 1)
        {
            error = $"Section id '{Shorten(sectionId)}' is out of range: notification ids start at 1.";
            return false;
        }
        if (last < first)
        {
            error = $"Section id '{Shorten(sectionId)}' is reversed: 'first' must not be greater than 'last'.";
            return false;
        }
        id = new SectionId(first, last);
        error = "";
        return true;
    }

    /// <summary>The section of size <paramref name="sectionSize"/> that holds <paramref name="notificationId"/>.</summary>
    public static SectionId Containing(long notificationId, int sectionSize)
    {
        if (notificationId < 1) notificationId = 1;
        var first = (notificationId - 1) / sectionSize * sectionSize + 1;
        var last = first > long.MaxValue - (sectionSize - 1) ? long.MaxValue : first + sectionSize - 1;
        return new SectionId(first, last);
    }

    /// <summary>Maps this id to the section of the given size that holds its first item (<c>"1,10"</c> with size 5 is <c>"1,5"</c>).</summary>
    public SectionId Normalize(int sectionSize) => Containing(First, sectionSize);

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{First},{Last}");

    private static bool TryParseNumber(ReadOnlySpan<char> text, out long value)
    {
        // Digits only: no sign, no spaces, no exponent; overflow fails.
        value = 0;
        if (text.IsEmpty) return false;
        foreach (var c in text)
            if (c is < '0' or > '9') return false;
        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..60] + "...";
}
