using System.Net;

namespace ProcessDsl;

/// <summary>
/// Checks what a server sends a <see cref="RemoteNotificationLog"/>: a well-formed section
/// (<see cref="SectionJson.Parse"/>), of the requested id and application, whose declared section
/// size is the one this log knows (learned once from the server when not configured) and within
/// <see cref="RemoteNotificationLogOptions.MaxSectionSize"/>.
/// </summary>
internal sealed class RemoteSectionValidator(string application, RemoteNotificationLogOptions options)
{
    private int _sectionSize = options.SectionSize ?? 0;

    /// <summary>The server's section size, or 0 before it is known.</summary>
    public int SectionSize => Volatile.Read(ref _sectionSize);

    /// <summary>Parses and checks a body; <paramref name="expected"/> is the section requested (null for <c>current</c>).</summary>
    /// <exception cref="RemoteNotificationLogException">The body is not the section asked for; the message says how.</exception>
    public Section Accept(Uri uri, byte[] body, SectionId? expected)
    {
        ParsedSection parsed;
        try
        {
            parsed = SectionJson.Parse(body, "GET " + uri);
        }
        catch (InvalidDataException ex)
        {
            throw new RemoteNotificationLogException(ex.Message, uri, HttpStatusCode.OK, ex);
        }
        if (parsed.SectionSize > options.MaxSectionSize)
            throw Invalid(uri, $"the server declares sections of {parsed.SectionSize} notifications, more than the {options.MaxSectionSize} this log accepts (RemoteNotificationLogOptions.MaxSectionSize)");
        var known = SectionSize;
        if (known == 0)
        {
            Interlocked.CompareExchange(ref _sectionSize, parsed.SectionSize, 0);
            known = SectionSize;
        }
        if (parsed.SectionSize != known)
            throw Invalid(uri, $"the server's sections hold {parsed.SectionSize} notifications, but this log expects {known}");
        if (expected is { } wanted && parsed.Section.Id != wanted.ToString())
            throw Invalid(uri, $"it is section '{parsed.Section.Id}', not the '{wanted}' requested");
        if (parsed.Application is not null && !string.Equals(parsed.Application, application, StringComparison.OrdinalIgnoreCase))
            throw Invalid(uri, $"it belongs to application '{parsed.Application}', not '{application}'");
        return parsed.Section;
    }

    private static RemoteNotificationLogException Invalid(Uri uri, string why) =>
        new($"The notification-log section from GET {uri} is invalid: {why}.", uri, HttpStatusCode.OK);
}
