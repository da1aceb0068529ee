using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using ProcessDsl.AspNetCore.Tests.Support;

namespace ProcessDsl.AspNetCore.Tests;

public sealed class HttpBehaviourTests(LogServerFixture server) : IClassFixture<LogServerFixture>
{
    private HttpClient Http => server.Http;

    [Fact]
    public async Task Archived_section_is_cacheable_for_a_year_with_a_strong_etag()
    {
        using var response = await Http.GetAsync(server.Host.Combine("logs/Source/11,20"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(response.Headers.ETag);
        Assert.False(response.Headers.ETag!.IsWeak);
        var cache = response.Headers.CacheControl!;
        Assert.True(cache.Public);
        Assert.Contains(cache.Extensions, e => e.Name == "immutable");
        Assert.Equal(TimeSpan.FromSeconds(31_536_000), cache.MaxAge);

        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = json.RootElement;
        Assert.Equal("11,20", root.GetProperty("id").GetString());
        Assert.Equal("1,10", root.GetProperty("previousId").GetString());
        Assert.Equal("21,30", root.GetProperty("nextId").GetString());
        Assert.Equal(10, root.GetProperty("sectionSize").GetInt32());
        Assert.Equal("Source", root.GetProperty("application").GetString());
        var items = root.GetProperty("items");
        Assert.Equal(10, items.GetArrayLength());
        var first = items[0];
        Assert.Equal(11, first.GetProperty("id").GetInt64());
        Assert.Equal(1, first.GetProperty("originatorVersion").GetInt64());
        Assert.Equal(Topics.Created, first.GetProperty("topic").GetString());
        Assert.True(Guid.TryParse(first.GetProperty("originatorId").GetString(), out _));
        // State: the stored event JSON, base64-encoded.
        using var state = JsonDocument.Parse(first.GetProperty("state").GetBytesFromBase64());
        Assert.Equal(10, state.RootElement.GetProperty("Number").GetInt32());
    }

    [Fact]
    public async Task Archived_section_answers_304_to_its_etag_and_200_to_another()
    {
        var uri = server.Host.Combine("logs/Source/1,10");
        using var first = await Http.GetAsync(uri);
        var etag = first.Headers.ETag!;

        using var again = new HttpRequestMessage(HttpMethod.Get, uri);
        again.Headers.IfNoneMatch.Add(etag);
        using var notModified = await Http.SendAsync(again);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Equal(etag, notModified.Headers.ETag);
        Assert.True(notModified.Headers.CacheControl!.Public);
        Assert.Empty(await notModified.Content.ReadAsByteArrayAsync());

        using var other = new HttpRequestMessage(HttpMethod.Get, uri);
        other.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"something-else\""));
        using var modified = await Http.SendAsync(other);
        Assert.Equal(HttpStatusCode.OK, modified.StatusCode);

        using var weak = new HttpRequestMessage(HttpMethod.Get, uri);
        weak.Headers.TryAddWithoutValidation("If-None-Match", "\"x\", W/" + etag.Tag);
        using var weakMatch = await Http.SendAsync(weak);
        Assert.Equal(HttpStatusCode.NotModified, weakMatch.StatusCode);
    }

    [Fact]
    public async Task A_normalised_id_is_served_as_its_section()
    {
        using var response = await Http.GetAsync(server.Host.Combine("logs/Source/3,7"));
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("1,10", json.RootElement.GetProperty("id").GetString());
    }

    [Fact]
    public async Task Application_names_match_ignoring_case()
    {
        using var response = await Http.GetAsync(server.Host.Combine("logs/source/1,10"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Current_is_never_marked_immutable_even_when_its_section_is_full()
    {
        // 10,000 notifications: the current section "9991,10000" is full.
        using var response = await Http.GetAsync(server.Host.Combine("logs/Source/current"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(response.Headers.CacheControl!.NoCache);
        Assert.False(response.Headers.CacheControl.Public);
        Assert.NotNull(response.Headers.ETag);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("9991,10000", json.RootElement.GetProperty("id").GetString());
    }

    [Fact]
    public async Task Head_answers_the_headers_without_a_body()
    {
        var uri = server.Host.Combine("logs/Source/1,10");
        using var get = await Http.GetAsync(uri);
        using var head = await Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, uri));

        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(get.Headers.ETag, head.Headers.ETag);
        Assert.Equal(get.Content.Headers.ContentLength, head.Content.Headers.ContentLength);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("x", "malformed")]
    [InlineData("1", "malformed")]
    [InlineData("1,2,3", "malformed")]
    [InlineData("0,9", "out of range")]
    [InlineData("20,11", "reversed")]
    [InlineData("-1,10", "malformed")]
    [InlineData("1,99999999999999999999", "malformed")]
    [InlineData("%20,10", "malformed")]
    [InlineData("Current", "malformed")]
    public async Task Bad_section_ids_get_400_problem_details_saying_what_is_wrong(string sectionId, string expected)
    {
        using var response = await Http.GetAsync(server.Host.Combine("logs/Source/" + sectionId));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(400, json.RootElement.GetProperty("status").GetInt32());
        Assert.Contains(expected, json.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("\\u0027", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("logs/Nope/current")]
    [InlineData("logs/Nope/x")]
    [InlineData("logs/%C3%A9t%C3%A9/1,10")]
    [InlineData("logs/Source%2Fx/1,10")]
    public async Task Unknown_applications_get_404_problem_details(string path)
    {
        using var response = await Http.GetAsync(server.Host.Combine(path));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("no notification log", body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("POST")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    [InlineData("PATCH")]
    [InlineData("OPTIONS")]
    public async Task Other_methods_get_405_with_allow(string method)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), server.Host.Combine("logs/Source/1,10"));
        if (method is "POST" or "PUT" or "PATCH") request.Content = new StringContent("{}");
        using var response = await Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal(["GET", "HEAD"], response.Content.Headers.Allow.Order());
    }

    [Fact]
    public async Task Missing_or_wrong_token_gets_401_with_a_challenge()
    {
        var uri = server.Host.Combine("secure/Source/1,10");
        using var missing = await Http.GetAsync(uri);
        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Equal("Bearer", missing.Headers.WwwAuthenticate.Single().Scheme);

        using var wrongRequest = new HttpRequestMessage(HttpMethod.Get, uri);
        wrongRequest.Headers.Authorization = new AuthenticationHeaderValue("Bearer", LogServerFixture.Token + "x");
        using var wrong = await Http.SendAsync(wrongRequest);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Contains("invalid_token", wrong.Headers.WwwAuthenticate.Single().Parameter, StringComparison.Ordinal);

        using var basicRequest = new HttpRequestMessage(HttpMethod.Get, uri);
        basicRequest.Headers.Authorization = new AuthenticationHeaderValue("Basic", LogServerFixture.Token);
        using var basic = await Http.SendAsync(basicRequest);
        Assert.Equal(HttpStatusCode.Unauthorized, basic.StatusCode);

        // Unknown applications are not revealed without the token.
        using var unknown = await Http.GetAsync(server.Host.Combine("secure/Nope/1,10"));
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);

        using var rightRequest = new HttpRequestMessage(HttpMethod.Get, uri);
        rightRequest.Headers.Authorization = new AuthenticationHeaderValue("Bearer", LogServerFixture.Token);
        using var right = await Http.SendAsync(rightRequest);
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
        Assert.True(right.Headers.CacheControl!.Private);
        Assert.False(right.Headers.CacheControl.Public);
    }

    [Fact]
    public async Task Remote_log_sends_its_token_and_reports_a_wrong_one_clearly()
    {
        using var good = new RemoteNotificationLog(server.Secure, "Source", new RemoteNotificationLogOptions { BearerToken = LogServerFixture.Token });
        Assert.Equal(100, good.Select(0, 100).Position);

        using var bad = new RemoteNotificationLog(server.Secure, "Source", new RemoteNotificationLogOptions { BearerToken = "wrong" });
        var error = await Assert.ThrowsAsync<RemoteNotificationLogException>(() => bad.GetSectionAsync("1,10"));
        Assert.Equal(HttpStatusCode.Unauthorized, error.StatusCode);
        Assert.Contains("rejected the bearer token", error.Message, StringComparison.Ordinal);
        Assert.Contains("/secure/Source/current", error.Message, StringComparison.Ordinal);

        using var none = new RemoteNotificationLog(server.Secure, "Source", new RemoteNotificationLogOptions { SectionSize = 10 });
        var missing = Assert.Throws<RemoteNotificationLogException>(() => none["1,10"]);
        Assert.Contains("requires a bearer token", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Remote_log_of_an_unknown_application_fails_with_404_and_no_retries()
    {
        using var remote = new RemoteNotificationLog(server.Logs, "Nope", new RemoteNotificationLogOptions { SectionSize = 10, InitialBackoff = TimeSpan.FromSeconds(10) });
        var started = DateTime.UtcNow;
        var error = Assert.Throws<RemoteNotificationLogException>(() => remote["1,10"]);
        Assert.Equal(HttpStatusCode.NotFound, error.StatusCode);
        Assert.Contains("no notification log 'Nope'", error.Message, StringComparison.Ordinal);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5));
    }
}
