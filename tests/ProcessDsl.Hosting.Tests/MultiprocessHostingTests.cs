using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using ProcessDsl.Hosting.Tests.Support;

namespace ProcessDsl.Hosting.Tests;

/// <summary>
/// The WebShop program with the multiprocess runner: its followers run as worker processes of the
/// same program, which build the same container (Payments gets its PaymentGateway there too).
/// </summary>
public sealed partial class MultiprocessHostingTests
{
    [Fact]
    public async Task Worker_processes_build_their_applications_with_the_hosts_services()
    {
        using var directory = new TempDirectory();
        var info = new ProcessStartInfo(DotnetCli.Executable)
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "WebShop.dll"), "--urls", "http://127.0.0.1:0",
                     "--ProcessDsl:Store=sqlite:" + directory.Path, "--ProcessDsl:Runner=multiprocess" })
            info.ArgumentList.Add(arg);
        var output = new StringBuilder();
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var process = new Process { StartInfo = info };
        void Line(string? line)
        {
            if (line is null) return;
            lock (output) output.AppendLine(line);
            if (Listening().Match(line) is { Success: true } m) listening.TrySetResult(new Uri(m.Groups["url"].Value));
        }
        process.OutputDataReceived += (_, e) => Line(e.Data);
        process.ErrorDataReceived += (_, e) => Line(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var address = await listening.Task.WaitAsync(TimeSpan.FromSeconds(60));
            using var client = new HttpClient { BaseAddress = address };
            var ids = new List<Guid>();
            for (var i = 0; i < 3; i++)
            {
                using var placed = await client.PostAsJsonAsync("/orders", new { amount = 20 });
                placed.EnsureSuccessStatusCode();
                using var body = JsonDocument.Parse(await placed.Content.ReadAsStringAsync());
                ids.Add(body.RootElement.GetProperty("id").GetGuid());
            }
            foreach (var id in ids)
            {
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
                string status;
                do
                {
                    using var order = JsonDocument.Parse(await client.GetStringAsync($"/orders/{id}"));
                    status = order.RootElement.GetProperty("status").GetString()!;
                    if (status != "paid") await Task.Delay(100);
                }
                while (status != "paid" && DateTime.UtcNow < deadline);
                Assert.True(status == "paid", $"order {id} is {status}:\n{Snapshot(output)}");
            }

            // A declined payment stops the Payments worker; the parent reports it.
            using (var declined = await client.PostAsJsonAsync("/orders", new { amount = 5000 })) declined.EnsureSuccessStatusCode();
            var healthDeadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
            HttpResponseMessage health;
            do
            {
                health = await client.GetAsync("/health");
                if (health.StatusCode == HttpStatusCode.OK) await Task.Delay(100);
            }
            while (health.StatusCode == HttpStatusCode.OK && DateTime.UtcNow < healthDeadline);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
            Assert.Contains("Card declined", await health.Content.ReadAsStringAsync(), StringComparison.Ordinal);

            var log = Snapshot(output);
            foreach (var application in new[] { "Orders", "Reservations", "Payments", "Summaries" })
                Assert.Contains($"[{application} worker]", log, StringComparison.Ordinal);
            Assert.Contains("with the host's services: worker --app Payments", log, StringComparison.Ordinal);
        }
        finally
        {
            if (!process.HasExited)
            {
                using (var term = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) await term.WaitForExitAsync();
                using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(60));
                try
                {
                    await process.WaitForExitAsync(wait.Token);
                }
                catch (OperationCanceledException)
                {
                    process.Kill(entireProcessTree: true);
                }
            }
        }
        Assert.Contains("System WebShopSystem stopped", Snapshot(output), StringComparison.Ordinal);
    }

    private static string Snapshot(StringBuilder output)
    {
        lock (output) return output.ToString();
    }

    [GeneratedRegex(@"Now listening on: (?<url>http://127\.0\.0\.1:\d+)")]
    private static partial Regex Listening();
}
