using System.Collections.Concurrent;
using ProcessDsl.Hosting.Tests.Support;
using PuppeteerSharp;

namespace ProcessDsl.Hosting.Tests;

/// <summary>The dashboard in real headless Chromium (the OS package; <c>.ci/run</c> installs it).</summary>
public sealed class DashboardBrowserTests
{
    private const string Chromium = "/usr/bin/chromium";

    [Fact]
    public async Task The_dashboard_lists_the_applications_its_numbers_move_and_a_poisoned_follower_shows_as_stopped()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: install it with 'apt-get install -y chromium' (.ci/run does).");
        await using var shop = await WebShopServer.StartAsync();
        await using var browser = await Puppeteer.LaunchAsync(new LaunchOptions
        {
            Headless = true,
            ExecutablePath = Chromium,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        });
        await using var page = await browser.NewPageAsync();
        await page.SetViewportAsync(new ViewPortOptions { Width = 1280, Height = 1000 });
        var requested = new ConcurrentBag<string>();
        page.Request += (_, e) => requested.Add(e.Request.Url);

        var response = await page.GoToAsync(new Uri(shop.Address, "/processdsl").ToString());
        Assert.True(response.Ok, $"the dashboard answered {response.Status}");
        await page.WaitForSelectorAsync("tr[data-app=\"Orders\"]", new WaitForSelectorOptions { Timeout = 30_000 });

        var applications = await page.EvaluateExpressionAsync<string[]>("[...document.querySelectorAll('#applications tr[data-app]')].map(r => r.dataset.app)");
        Assert.Equal(["Orders", "Reservations", "Payments", "Summaries"], applications);

        // Numbers move while orders are placed: each round's newest Orders id shows up on the page.
        var seen = new List<long>();
        for (var round = 1; round <= 4; round++)
        {
            for (var i = 0; i < 5; i++) await shop.PlaceOrderAsync(20);
            var before = seen.LastOrDefault();
            await page.WaitForFunctionAsync(
                $"() => Number(document.querySelector('tr[data-app=\"Orders\"] .newest')?.textContent) > {before}"
                + " && Number(document.querySelector('tr[data-follower=\"Reservations<-Orders\"] .position')?.textContent) > 0",
                new WaitForFunctionOptions { Timeout = 30_000 });
            seen.Add(long.Parse(await page.EvaluateExpressionAsync<string>("document.querySelector('tr[data-app=\"Orders\"] .newest').textContent"), System.Globalization.CultureInfo.InvariantCulture));
        }
        Assert.True(seen.SequenceEqual(seen.Order()) && seen.Distinct().Count() == seen.Count, "the newest id on the page did not rise: " + string.Join(", ", seen));
        Assert.Equal(0, await page.EvaluateExpressionAsync<int>("document.querySelectorAll('tr.stopped').length"));

        // A poisoned follower shows as stopped, in red, with its error.
        await shop.PlaceOrderAsync(5000);
        var stopped = await page.WaitForSelectorAsync("tr.stopped[data-follower=\"Payments<-Orders\"]", new WaitForSelectorOptions { Timeout = 30_000 });
        var text = await stopped.EvaluateFunctionAsync<string>("row => row.textContent");
        Assert.Contains("Card declined", text, StringComparison.Ordinal);
        var color = await stopped.EvaluateFunctionAsync<string>("row => getComputedStyle(row.querySelector('td')).color");
        Assert.Equal("rgb(198, 40, 40)", color);
        Assert.Contains("Payments", await page.EvaluateExpressionAsync<string>("document.getElementById('stopped').textContent"), StringComparison.Ordinal);
        Assert.Contains("None", await page.EvaluateExpressionAsync<string>("document.getElementById('parked').textContent"), StringComparison.Ordinal);

        // One self-contained page: nothing was fetched from anywhere but the shop.
        Assert.All(requested, url => Assert.StartsWith(shop.Address.ToString(), url, StringComparison.Ordinal));

        var screenshot = Environment.GetEnvironmentVariable("PROCESSDSL_DASHBOARD_SCREENSHOT") is { Length: > 0 } path
            ? path
            : Path.Combine(Path.GetTempPath(), "processdsl-dashboard.png");
        await page.ScreenshotAsync(screenshot, new ScreenshotOptions { FullPage = true });
        Assert.True(new FileInfo(screenshot).Length > 0);
    }
}
