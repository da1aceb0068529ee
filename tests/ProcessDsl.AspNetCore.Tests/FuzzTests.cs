using System.Diagnostics;
using System.Net;
using System.Text;
using ProcessDsl.AspNetCore.Tests.Support;

namespace ProcessDsl.AspNetCore.Tests;

/// <summary>Random section ids and paths on loopback: never a 5xx, never a hang.</summary>
public sealed class FuzzTests(LogServerFixture server) : IClassFixture<LogServerFixture>
{
    private const int Requests = 3_000;
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Random_section_ids_and_paths_never_yield_a_server_error()
    {
        var random = new Random(20240611);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var clock = Stopwatch.StartNew();
        var statuses = new Dictionary<HttpStatusCode, int>();
        var failures = new List<string>();
        for (var i = 0; i < Requests && clock.Elapsed < Budget; i++)
        {
            var path = RandomPath(random);
            var method = random.Next(10) switch { 0 => HttpMethod.Head, 1 => HttpMethod.Post, 2 => HttpMethod.Delete, _ => HttpMethod.Get };
            HttpResponseMessage response;
            Uri uri;
            try
            {
                uri = new Uri(server.Host.Address, path);
            }
            catch (UriFormatException)
            {
                continue;
            }
            using var request = new HttpRequestMessage(method, uri);
            if (random.Next(20) == 0) request.Headers.TryAddWithoutValidation("If-None-Match", new string(RandomText(random, 20).Where(c => c is >= ' ' and <= '~').ToArray()));
            try
            {
                response = await http.SendAsync(request);
            }
            catch (TaskCanceledException)
            {
                failures.Add($"{method} {path}: no answer within 10 s");
                continue;
            }
            using (response)
            {
                statuses[response.StatusCode] = statuses.GetValueOrDefault(response.StatusCode) + 1;
                if ((int)response.StatusCode >= 500) failures.Add($"{method} {path}: {(int)response.StatusCode}");
                await response.Content.ReadAsByteArrayAsync();
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
        // The fuzz reached the interesting answers, not only 404s of unmatched routes.
        Assert.True(statuses.GetValueOrDefault(HttpStatusCode.OK) > 100, Describe(statuses));
        Assert.True(statuses.GetValueOrDefault(HttpStatusCode.BadRequest) > 100, Describe(statuses));
        Assert.True(statuses.GetValueOrDefault(HttpStatusCode.NotFound) > 10, Describe(statuses));
    }

    private static string Describe(Dictionary<HttpStatusCode, int> statuses) =>
        string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{(int)s.Key}: {s.Value}"));

    private static string RandomPath(Random random)
    {
        var application = random.Next(6) switch
        {
            0 => RandomText(random, 12),
            1 => "source",
            _ => "Source",
        };
        var section = random.Next(12) switch
        {
            0 => "current",
            1 => RandomText(random, 30),
            2 => $"{RandomLong(random)},{RandomLong(random)}",
            3 => $"{random.Next(-5, 5)},{random.Next(-5, 5)}",
            4 => Uri.EscapeDataString(RandomText(random, 10)) + "," + random.Next(1, 100),
            5 => $"{random.Next(1, 20_000)},{random.Next(1, 20_000)}",
            6 => $"{random.Next(1, 20_000)}",
            7 => $"{random.Next(1, 20_000)},{random.Next(1, 20_000)},{random.Next()}",
            8 => new string('9', random.Next(1, 40)) + "," + new string('9', random.Next(1, 40)),
            _ => $"{random.Next(1, 12_000)},{random.Next(1, 12_000) + 10_000}",
        };
        return random.Next(15) switch
        {
            0 => $"logs/{application}",
            1 => $"logs/{application}/{section}/{RandomText(random, 5)}",
            2 => $"logs//{section}",
            3 => $"logs/{application}/{Uri.EscapeDataString(section)}",
            4 => RandomText(random, 20),
            5 => $"secure/{application}/{section}",
            _ => $"logs/{application}/{section}",
        };
    }

    private static long RandomLong(Random random) => random.Next(4) switch
    {
        0 => long.MaxValue - random.Next(100),
        1 => random.NextInt64(),
        _ => random.Next(0, 100_000),
    };

    private static string RandomText(Random random, int maxLength)
    {
        const string alphabet = "abcXYZ019,.-_~%/?#[]@!$&'()*+;= \t\"<>\\^`{|}é€😀\u0001";
        var length = random.Next(0, maxLength + 1);
        var builder = new StringBuilder(length);
        for (var i = 0; i < length; i++) builder.Append(alphabet[random.Next(alphabet.Length)]);
        return builder.ToString();
    }
}
