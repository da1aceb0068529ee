using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace ProcessDsl.AspNetCore;

/// <summary>
/// Maps read-only HTTP endpoints that serve applications' notification logs as JSON, for
/// <see cref="RemoteNotificationLog"/> readers and followers on other hosts.
/// </summary>
/// <remarks>
/// <para><c>GET</c> or <c>HEAD</c> <c>{basePath}/{application}/{sectionId}</c>, where the section id is
/// <c>current</c> or <c>first,last</c> (normalised to the log's section size), answers
/// <c>200</c> with the section in the form of <see cref="SectionJson"/> and a strong <c>ETag</c>.
/// An archived (full) numbered section is marked <c>Cache-Control: public, max-age=31536000, immutable</c>;
/// <c>current</c> and a section still filling are marked <c>no-cache</c> and answered with
/// <c>304 Not Modified</c> when <c>If-None-Match</c> names their ETag.</para>
/// <para>A malformed section id gets <c>400</c> and an unknown application <c>404</c>, each with an
/// <c>application/problem+json</c> body saying what was wrong; other methods get <c>405</c>
/// with <c>Allow: GET, HEAD</c>; a missing or wrong bearer token (when one is required) gets
/// <c>401</c>. A log that cannot be read (a database fault) gets <c>503</c>.</para>
/// </remarks>
public static class NotificationLogEndpoints
{
    private const string ImmutablePublic = "public, max-age={0}, immutable";
    private const string ImmutablePrivate = "private, max-age={0}, immutable";
    private const string Realm = "Bearer realm=\"notification-logs\"";

    /// <summary>
    /// Serves the logs that <paramref name="resolve"/> finds by application name (null for none).
    /// </summary>
    /// <param name="endpoints">The route builder (a <c>WebApplication</c>).</param>
    /// <param name="basePath">The path prefix, e.g. <c>/logs</c>.</param>
    /// <param name="resolve">Finds the log of an application name as given in the URL, or returns null.</param>
    /// <param name="options">Token and caching settings; defaults when null.</param>
    /// <returns>The route group, to add conventions such as rate limiting.</returns>
    public static RouteGroupBuilder MapNotificationLogs(this IEndpointRouteBuilder endpoints, string basePath, Func<string, INotificationLog?> resolve, NotificationLogEndpointOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(basePath);
        ArgumentNullException.ThrowIfNull(resolve);
        options ??= new NotificationLogEndpointOptions();
        options.Validate();
        var handler = new Handler(resolve, options);
        var group = endpoints.MapGroup(basePath);
        group.Map("{application}/{sectionId}", handler.HandleAsync).WithDisplayName("Notification log section");
        return group;
    }

    /// <summary>Serves the logs of the given applications (already connected to a store), by <see cref="Application.Name"/>, ignoring case.</summary>
    /// <param name="endpoints">The route builder (a <c>WebApplication</c>).</param>
    /// <param name="basePath">The path prefix, e.g. <c>/logs</c>.</param>
    /// <param name="applications">The applications, for example from a runner's <c>Get&lt;T&gt;()</c>.</param>
    /// <param name="options">Token and caching settings; defaults when null.</param>
    /// <exception cref="ArgumentException">Two applications have the same name.</exception>
    public static RouteGroupBuilder MapNotificationLogs(this IEndpointRouteBuilder endpoints, string basePath, IEnumerable<Application> applications, NotificationLogEndpointOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(applications);
        var byName = new Dictionary<string, Application>(StringComparer.OrdinalIgnoreCase);
        foreach (var application in applications)
        {
            ArgumentNullException.ThrowIfNull(application, nameof(applications));
            if (!byName.TryAdd(application.Name, application))
                throw new ArgumentException($"Two applications are named '{application.Name}'.", nameof(applications));
        }
        return endpoints.MapNotificationLogs(basePath, name => byName.TryGetValue(name, out var application) ? application.NotificationLog : null, options);
    }

    /// <summary>
    /// Serves the logs of the named applications in a store, without their classes (a log server
    /// beside the system, or on another host sharing the database).
    /// </summary>
    /// <param name="endpoints">The route builder (a <c>WebApplication</c>).</param>
    /// <param name="basePath">The path prefix, e.g. <c>/logs</c>.</param>
    /// <param name="persistence">The store the applications write to.</param>
    /// <param name="applicationNames">The application names, e.g. <c>Orders</c>; matched ignoring case.</param>
    /// <param name="options">Token and caching settings; defaults when null.</param>
    /// <remarks>Sections hold <see cref="NotificationLog.DefaultSectionSize"/> notifications unless <see cref="NotificationLogEndpointOptions.SectionSize"/> says otherwise.</remarks>
    public static RouteGroupBuilder MapNotificationLogs(this IEndpointRouteBuilder endpoints, string basePath, Persistence persistence, IEnumerable<string> applicationNames, NotificationLogEndpointOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(persistence);
        ArgumentNullException.ThrowIfNull(applicationNames);
        var applications = applicationNames.Select(name => new LogOnlyApplication(name).Open(persistence, new ApplicationOptions { CacheCapacity = 0 })).ToList();
        return endpoints.MapNotificationLogs(basePath, applications, options);
    }

    /// <summary>An application known by name only, opened to read its log.</summary>
    private sealed class LogOnlyApplication(string name) : Application
    {
        public override string Name => name;
    }

    private sealed class Handler(Func<string, INotificationLog?> resolve, NotificationLogEndpointOptions options)
    {
        private readonly ArchivedSectionCache? _cache = options.ArchivedSectionCacheBytes > 0 ? new(options.ArchivedSectionCacheBytes) : null;
        private readonly byte[]? _tokenHash = options.BearerToken is null ? null : SHA256.HashData(Encoding.UTF8.GetBytes(options.BearerToken));
        private readonly string _archivedCacheControl = string.Format(CultureInfo.InvariantCulture,
            options.BearerToken is null ? ImmutablePublic : ImmutablePrivate, (long)options.ArchivedMaxAge.TotalSeconds);

        public async Task HandleAsync(HttpContext context)
        {
            var request = context.Request;
            var response = context.Response;
            var head = HttpMethods.IsHead(request.Method);
            if (!head && !HttpMethods.IsGet(request.Method))
            {
                response.Headers.Allow = "GET, HEAD";
                await ProblemAsync(context, StatusCodes.Status405MethodNotAllowed, "Method Not Allowed",
                    $"Notification logs are read-only: use GET or HEAD, not {Shorten(request.Method)}.").ConfigureAwait(false);
                return;
            }
            if (_tokenHash is not null && !Authorized(request, out var challenge))
            {
                response.Headers.WWWAuthenticate = challenge;
                await ProblemAsync(context, StatusCodes.Status401Unauthorized, "Unauthorized",
                    "A valid bearer token is required: send 'Authorization: Bearer <token>'.").ConfigureAwait(false);
                return;
            }
            var name = request.RouteValues["application"] as string ?? "";
            var sectionId = request.RouteValues["sectionId"] as string ?? "";
            INotificationLog? log;
            try
            {
                log = resolve(name);
            }
            catch (ArgumentException)
            {
                log = null;
            }
            catch (Exception ex)
            {
                await UnavailableAsync(context, ex, "Finding the notification log of {Application} failed", Shorten(name)).ConfigureAwait(false);
                return;
            }
            if (log is null)
            {
                await ProblemAsync(context, StatusCodes.Status404NotFound, "Not Found",
                    $"There is no notification log for an application named '{Shorten(name)}'.").ConfigureAwait(false);
                return;
            }
            if (options.SectionSize is { } size && log is NotificationLog local && local.SectionSize != size) log = local.WithSectionSize(size);
            var current = sectionId == SectionId.Current;
            if (!current && !SectionId.TryParse(sectionId, out _, out var error))
            {
                await ProblemAsync(context, StatusCodes.Status400BadRequest, "Bad Request", error).ConfigureAwait(false);
                return;
            }

            EncodedSection encoded;
            try
            {
                encoded = await EncodeAsync(log, sectionId, current, context.RequestAborted).ConfigureAwait(false);
            }
            catch (ArgumentException ex)
            {
                await ProblemAsync(context, StatusCodes.Status400BadRequest, "Bad Request", ex.Message).ConfigureAwait(false);
                return;
            }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                await UnavailableAsync(context, ex, "Reading section {SectionId} of the notification log of {Application} failed", sectionId, name).ConfigureAwait(false);
                return;
            }

            var (body, etag, archived) = encoded;
            response.Headers.ETag = etag;
            response.Headers.CacheControl = archived ? _archivedCacheControl : "no-cache";
            if (_tokenHash is not null) response.Headers.Vary = "Authorization";
            if (Matches(request.Headers.IfNoneMatch, etag))
            {
                response.StatusCode = StatusCodes.Status304NotModified;
                return;
            }
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "application/json; charset=utf-8";
            response.ContentLength = body.Length;
            response.Headers.XContentTypeOptions = "nosniff";
            if (!head) await response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
        }

        /// <summary>A fault on the server's side (not bad input): logged, and answered 503 so clients retry.</summary>
        private static async Task UnavailableAsync(HttpContext context, Exception ex, string message, params object?[] args)
        {
            var logger = context.RequestServices.GetService<ILoggerFactory>()?.CreateLogger(typeof(NotificationLogEndpoints).FullName!);
#pragma warning disable CA2254 // The templates are constants of this class.
            logger?.LogError(ex, message, args);
#pragma warning restore CA2254
            context.Response.Headers.RetryAfter = "1";
            await ProblemAsync(context, StatusCodes.Status503ServiceUnavailable, "Service Unavailable",
                "The notification log could not be read just now; try again.").ConfigureAwait(false);
        }

        /// <summary>The section's body and ETag, from the cache of archived sections when there.</summary>
        private async ValueTask<EncodedSection> EncodeAsync(INotificationLog log, string sectionId, bool current, CancellationToken cancellationToken)
        {
            if (_cache is not null && !current)
            {
                var cached = await _cache.GetAsync(log, SectionId.Parse(sectionId).Normalize(log.SectionSize), cancellationToken).ConfigureAwait(false);
                if (cached is not null) return cached;
            }
            var section = await log.GetSectionAsync(sectionId, cancellationToken).ConfigureAwait(false);
            return EncodedSection.Of(log, section, section.IsArchived && !current);
        }

        private bool Authorized(HttpRequest request, out string challenge)
        {
            challenge = Realm;
            var header = request.Headers.Authorization;
            if (header.Count != 1) return false;
            var value = header[0].AsSpan().Trim();
            const string scheme = "Bearer ";
            if (!value.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)) return false;
            var token = value[scheme.Length..].Trim();
            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            var bytes = Encoding.UTF8.GetBytes(token.ToString());
            SHA256.HashData(bytes, hash);
            // Hashes of equal length compared in constant time: neither the token nor its length leaks.
            if (CryptographicOperations.FixedTimeEquals(hash, _tokenHash)) return true;
            challenge = Realm + ", error=\"invalid_token\"";
            return false;
        }
    }

    /// <summary>Whether an If-None-Match header names the ETag (weak comparison, as RFC 9110 asks) or is <c>*</c>.</summary>
    private static bool Matches(StringValues ifNoneMatch, string etag)
    {
        foreach (var header in ifNoneMatch)
        {
            if (header is null) continue;
            foreach (var range in header.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (range == "*") return true;
                var tag = range.StartsWith("W/", StringComparison.Ordinal) ? range[2..] : range;
                if (tag == etag) return true;
            }
        }
        return false;
    }

    // Problem details are JSON, never HTML: quotes and apostrophes in messages stay readable.
    private static readonly JsonWriterOptions ProblemWriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static async Task ProblemAsync(HttpContext context, int status, string title, string detail)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "application/problem+json";
        response.Headers.XContentTypeOptions = "nosniff";
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, ProblemWriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("type", "https://tools.ietf.org/html/rfc9110#section-15." + (status switch
            {
                400 => "5.1",
                401 => "5.2",
                404 => "5.5",
                405 => "5.6",
                _ => "6.4",
            }));
            writer.WriteString("title", title);
            writer.WriteNumber("status", status);
            writer.WriteString("detail", detail);
            writer.WriteEndObject();
        }
        response.ContentLength = buffer.WrittenCount;
        if (HttpMethods.IsHead(context.Request.Method)) return;
        try
        {
            await response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away.
        }
    }

    private static string Shorten(string text) => text.Length <= 100 ? text : text[..100] + "...";
}
