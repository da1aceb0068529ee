using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

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
/// <c>401</c>. A log that cannot be read (a database fault) gets <c>503</c>. Problem bodies go
/// through the application's <c>IProblemDetailsService</c> when it registered one.</para>
/// <para>Authentication and authorization are the framework's: with
/// <see cref="NotificationLogEndpointOptions.BearerToken"/> the section endpoint requires the
/// <see cref="NotificationLogAuthentication.Scheme"/> scheme (register it with
/// <c>services.AddNotificationLogAuthentication()</c>); for any other scheme, call
/// <c>RequireAuthorization(...)</c> on the route group returned.</para>
/// </remarks>
public static class NotificationLogEndpoints
{
    private const string Pattern = "{application}/{sectionId}";
    private static readonly string[] ReadMethods = [HttpMethods.Get, HttpMethods.Head];

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
        var group = endpoints.MapGroup(basePath);
        var sections = group.MapMethods(Pattern, ReadMethods, new SectionEndpoint(resolve, options).HandleAsync)
            .WithDisplayName("Notification log section");
        if (options.BearerToken is { } token)
        {
            EnsureAuthentication(endpoints);
            sections.WithMetadata(new NotificationLogAuthentication.Token(token)).RequireAuthorization(NotificationLogAuthentication.Policy);
        }
        // Every other method: 405 with Allow and a problem body, before any authentication (it reveals nothing).
        group.Map(Pattern, MethodNotAllowedAsync)
            .WithDisplayName("Notification log section (other methods)")
            .AllowAnonymous()
            .Add(endpoint => ((RouteEndpointBuilder)endpoint).Order = 1); // GET and HEAD match the endpoint above first
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

    private static async Task MethodNotAllowedAsync(HttpContext context)
    {
        context.Response.Headers.Allow = "GET, HEAD";
        await Problems.WriteAsync(context, StatusCodes.Status405MethodNotAllowed,
            $"Notification logs are read-only: use GET or HEAD, not {SectionEndpoint.Shorten(context.Request.Method)}.").ConfigureAwait(false);
    }

    private static void EnsureAuthentication(IEndpointRouteBuilder endpoints)
    {
        var schemes = endpoints.ServiceProvider.GetService<IAuthenticationSchemeProvider>();
        if (schemes?.GetSchemeAsync(NotificationLogAuthentication.Scheme).GetAwaiter().GetResult() is null)
            throw new InvalidOperationException(
                "NotificationLogEndpointOptions.BearerToken needs the notification-log authentication scheme: call builder.Services.AddNotificationLogAuthentication() before builder.Build().");
    }
}
