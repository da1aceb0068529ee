using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;

namespace ProcessDsl.AspNetCore;

/// <summary>
/// Answers <c>GET</c>/<c>HEAD</c> of one section: resolves the log, encodes the section (archived
/// ones from the cache), sets <c>ETag</c> and <c>Cache-Control</c>, and answers <c>304</c> when
/// <c>If-None-Match</c> names the ETag. Bad input gets <c>400</c>/<c>404</c>, a fault reading the log <c>503</c>.
/// </summary>
internal sealed class SectionEndpoint(Func<string, INotificationLog?> resolve, NotificationLogEndpointOptions options)
{
    private const string ImmutablePublic = "public, max-age={0}, immutable";
    private const string ImmutablePrivate = "private, max-age={0}, immutable";

    private readonly ArchivedSectionCache? _cache = options.ArchivedSectionCacheBytes > 0 ? new(options.ArchivedSectionCacheBytes) : null;
    private readonly string _archivedCacheControl = string.Format(CultureInfo.InvariantCulture,
        options.BearerToken is null ? ImmutablePublic : ImmutablePrivate, (long)options.ArchivedMaxAge.TotalSeconds);

    public async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var response = context.Response;
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
            await Problems.WriteAsync(context, StatusCodes.Status404NotFound,
                $"There is no notification log for an application named '{Shorten(name)}'.").ConfigureAwait(false);
            return;
        }
        if (options.SectionSize is { } size && log is NotificationLog local && local.SectionSize != size) log = local.WithSectionSize(size);
        var current = sectionId == SectionId.Current;
        if (!current && !SectionId.TryParse(sectionId, out _, out var error))
        {
            await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, error).ConfigureAwait(false);
            return;
        }

        EncodedSection encoded;
        try
        {
            encoded = await EncodeAsync(log, sectionId, current, context.RequestAborted).ConfigureAwait(false);
        }
        catch (ArgumentException ex)
        {
            await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, ex.Message).ConfigureAwait(false);
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
        if (options.BearerToken is not null) response.Headers.Vary = "Authorization";
        if (Matches(request.GetTypedHeaders(), etag))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = body.Length;
        response.Headers.XContentTypeOptions = "nosniff";
        if (!HttpMethods.IsHead(request.Method)) await response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }

    internal static string Shorten(string text) => text.Length <= 100 ? text : text[..100] + "...";

    /// <summary>Whether If-None-Match names the ETag (weak comparison, as RFC 9110 asks for it) or is <c>*</c>.</summary>
    private static bool Matches(RequestHeaders headers, string etag)
    {
        var tag = new EntityTagHeaderValue(etag);
        foreach (var candidate in headers.IfNoneMatch)
            if (candidate.Equals(EntityTagHeaderValue.Any) || candidate.Compare(tag, useStrongComparison: false)) return true;
        return false;
    }

    /// <summary>A fault on the server's side (not bad input): logged, and answered 503 so clients retry.</summary>
    private static async Task UnavailableAsync(HttpContext context, Exception ex, string message, params object?[] args)
    {
        var logger = context.RequestServices.GetService<ILoggerFactory>()?.CreateLogger(typeof(NotificationLogEndpoints).FullName!);
#pragma warning disable CA2254 // The templates are constants of this class.
        logger?.LogError(ex, message, args);
#pragma warning restore CA2254
        context.Response.Headers.RetryAfter = "1";
        await Problems.WriteAsync(context, StatusCodes.Status503ServiceUnavailable,
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
}
