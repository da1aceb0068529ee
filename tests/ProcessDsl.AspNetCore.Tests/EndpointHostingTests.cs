using System.Net;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ProcessDsl.AspNetCore.Tests.Support;

namespace ProcessDsl.AspNetCore.Tests;

/// <summary>The endpoints inside an ASP.NET Core application: its problem-details service, its authentication, its routing.</summary>
public sealed class EndpointHostingTests : IAsyncLifetime
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private Persistence _persistence = null!;
    private Source _source = null!;

    public Task InitializeAsync()
    {
        _persistence = Persistence.InMemory();
        _source = (Source)new Source().Open(_persistence);
        _source.AddItems(25);
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        _http.Dispose();
        _persistence.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Problems_go_through_the_applications_problem_details_service()
    {
        await using var host = await KestrelHost.StartAsync(
            app => app.MapNotificationLogs("/logs", [_source]),
            services => services.AddProblemDetails(o => o.CustomizeProblemDetails = c => c.ProblemDetails.Extensions["served-by"] = "test"));

        foreach (var (path, status) in new[] { ("logs/Nope/1,10", 404), ("logs/Source/x", 400) })
        {
            using var response = await _http.GetAsync(host.Combine(path));
            Assert.Equal(status, (int)response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal("test", json.RootElement.GetProperty("served-by").GetString());
            Assert.Equal(status, json.RootElement.GetProperty("status").GetInt32());
        }
    }

    [Fact]
    public async Task Other_methods_get_405_with_allow_and_a_problem_body_before_any_token_check()
    {
        await using var host = await KestrelHost.StartAsync(
            app => app.MapNotificationLogs("/secure", [_source], new NotificationLogEndpointOptions { BearerToken = "t" }),
            services => services.AddNotificationLogAuthentication());
        using var response = await _http.DeleteAsync(host.Combine("secure/Source/1,10"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal(["GET", "HEAD"], response.Content.Headers.Allow.Order());
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("Notification logs are read-only: use GET or HEAD, not DELETE.", json.RootElement.GetProperty("detail").GetString());

        using var head = await _http.SendAsync(new HttpRequestMessage(HttpMethod.Head, host.Combine("secure/Source/1,10")));
        Assert.Equal(HttpStatusCode.Unauthorized, head.StatusCode); // HEAD is a read: it needs the token
    }

    [Fact]
    public async Task A_wrong_token_is_challenged_with_a_problem_body()
    {
        await using var host = await KestrelHost.StartAsync(
            app => app.MapNotificationLogs("/secure", [_source], new NotificationLogEndpointOptions { BearerToken = "right" }),
            services => services.AddNotificationLogAuthentication());
        using var request = new HttpRequestMessage(HttpMethod.Get, host.Combine("secure/Source/current"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "wrong");
        using var response = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer realm=\"notification-logs\", error=\"invalid_token\"", response.Headers.WwwAuthenticate.ToString());
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("A valid bearer token is required: send 'Authorization: Bearer <token>'.", json.RootElement.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_bearer_token_without_the_authentication_services_is_refused_when_mapped()
    {
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => KestrelHost.StartAsync(
            app => app.MapNotificationLogs("/secure", [_source], new NotificationLogEndpointOptions { BearerToken = "t" })));
        Assert.Contains("AddNotificationLogAuthentication()", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_route_group_takes_the_applications_own_authorization()
    {
        await using var host = await KestrelHost.StartAsync(
            app => app.MapNotificationLogs("/logs", [_source]).RequireAuthorization(p => p.AddAuthenticationSchemes("Header").RequireClaim("reader")),
            services =>
            {
                services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, HeaderScheme>("Header", _ => { });
                services.AddAuthorization();
            });
        using var anonymous = await _http.GetAsync(host.Combine("logs/Source/1,10"));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        using var request = new HttpRequestMessage(HttpMethod.Get, host.Combine("logs/Source/1,10"));
        request.Headers.Add("X-Reader", "yes");
        using var allowed = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        var remote = new RemoteNotificationLog(host.Combine("logs"), "Source", new RemoteNotificationLogOptions { MaxAttempts = 1 });
        using (remote)
        {
            var error = Assert.Throws<RemoteNotificationLogException>(() => remote.Select(0, 10));
            Assert.Equal(HttpStatusCode.Unauthorized, error.StatusCode);
        }
    }

    /// <summary>An application's own scheme: a request with <c>X-Reader</c> is a reader.</summary>
    private sealed class HeaderScheme(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        protected override Task<AuthenticateResult> HandleAuthenticateAsync() =>
            Task.FromResult(Request.Headers.ContainsKey("X-Reader")
                ? AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity([new Claim("reader", "yes")], Scheme.Name)), Scheme.Name))
                : AuthenticateResult.NoResult());
    }
}
