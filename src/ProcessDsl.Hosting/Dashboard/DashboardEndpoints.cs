using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using ProcessDsl;
using ProcessDsl.Hosting;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the live ProcessDsl dashboard.</summary>
public static class ProcessDslDashboardEndpoints
{
    private static readonly Lazy<string> Page = new(() =>
    {
        using var stream = typeof(ProcessDslDashboardEndpoints).Assembly.GetManifestResourceStream("ProcessDsl.Hosting.Dashboard.dashboard.html")
            ?? throw new InvalidOperationException("The dashboard page is missing from ProcessDsl.Hosting.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    /// <summary>
    /// Serves one self-contained page at <paramref name="path"/> (nothing is fetched from elsewhere)
    /// showing each application's newest notification id, each follower's position, lag and rate
    /// over the last minutes, stopped followers with their error, and parked events; it polls
    /// <c>{path}/status</c> (JSON) every second. Needs <c>AddProcessDsl</c>. Returns the route group,
    /// for <c>RequireAuthorization</c> and the like.
    /// </summary>
    public static RouteGroupBuilder MapProcessDslDashboard(this IEndpointRouteBuilder endpoints, string path = "/processdsl")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!path.StartsWith('/')) throw new ArgumentException($"The dashboard path '{path}' must start with '/'.", nameof(path));
        var history = new DashboardHistory(endpoints.ServiceProvider.GetService<TimeProvider>() ?? TimeProvider.System);
        var group = endpoints.MapGroup(path.TrimEnd('/'));
        group.MapGet("/", (HttpContext context) =>
        {
            var statusUrl = context.Request.PathBase.Add(context.Request.Path).Value!.TrimEnd('/') + "/status";
            context.Response.Headers.CacheControl = "no-store";
            context.Response.Headers["Content-Security-Policy"] = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:";
            return Results.Content(Page.Value.Replace("__STATUS_URL__", WebUtility.HtmlEncode(statusUrl), StringComparison.Ordinal), "text/html; charset=utf-8");
        });
        group.MapGet("/status", (HttpContext context) =>
        {
            var runner = context.RequestServices.GetService<Runner>() ?? throw new InvalidOperationException(
                "MapProcessDslDashboard needs a system: call builder.Services.AddProcessDsl(...).");
            context.Response.Headers.CacheControl = "no-store";
            return Results.Json(history.Build(runner), DashboardJson.Default.DashboardStatus);
        });
        return group;
    }
}
