using System.Net;

namespace ProcessDsl;

/// <summary>
/// A <see cref="RemoteNotificationLog"/> could not get a section: the server refused the request,
/// kept failing after every retry, or sent something that is not a well-formed section. The
/// message names the URL and says what was wrong.
/// </summary>
public sealed class RemoteNotificationLogException : Exception
{
    /// <summary>Creates the exception.</summary>
    public RemoteNotificationLogException(string message, Uri uri, HttpStatusCode? statusCode = null, Exception? innerException = null)
        : base(message, innerException)
    {
        Uri = uri;
        StatusCode = statusCode;
    }

    /// <summary>The URL requested.</summary>
    public Uri Uri { get; }

    /// <summary>The last HTTP status received, if any.</summary>
    public HttpStatusCode? StatusCode { get; }
}
