using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ProcessDsl.Hosting.Tests.Support;

namespace ProcessDsl.Hosting.Tests;

public sealed class WebShopTests
{
    [Fact]
    public async Task Orders_placed_over_http_are_reserved_and_paid_and_the_shop_serves_health_metrics_and_logs()
    {
        await using var shop = await WebShopServer.StartAsync();
        var ids = new List<Guid>();
        for (var i = 0; i < 5; i++) ids.Add(await shop.PlaceOrderAsync(20));

        foreach (var id in ids)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            string status;
            do
            {
                using var order = JsonDocument.Parse(await shop.Client.GetStringAsync($"/orders/{id}"));
                status = order.RootElement.GetProperty("status").GetString()!;
                Assert.Equal(20m, order.RootElement.GetProperty("amount").GetDecimal());
                if (status != "paid") await Task.Delay(20);
            }
            while (status != "paid" && DateTime.UtcNow < deadline);
            Assert.Equal("paid", status);
        }
        Assert.Equal(HttpStatusCode.NotFound, (await shop.Client.GetAsync($"/orders/{Guid.NewGuid()}")).StatusCode);

        using var health = JsonDocument.Parse(await shop.Client.GetStringAsync("/health"));
        Assert.Equal("Healthy", health.RootElement.GetProperty("status").GetString());

        var metrics = await shop.Client.GetStringAsync("/metrics");
        Assert.Contains("processdsl_events_recorded_total{", metrics, StringComparison.Ordinal);
        Assert.Contains("application=\"Orders\"", metrics, StringComparison.Ordinal);
        Assert.Contains("processdsl_step_duration_seconds_bucket{", metrics, StringComparison.Ordinal);

        using var log = JsonDocument.Parse(await shop.Client.GetStringAsync("/logs/Orders/1,10"));
        Assert.Equal(ids[0], log.RootElement.GetProperty("items")[0].GetProperty("originatorId").GetGuid());
    }

    [Fact]
    public async Task One_trace_and_one_correlation_id_follow_an_order_from_the_http_request_through_every_application()
    {
        await using var shop = await WebShopServer.StartAsync();
        const string traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
        using var post = new HttpRequestMessage(HttpMethod.Post, "/orders") { Content = JsonContent.Create(new { amount = 20m }) };
        post.Headers.Add("traceparent", $"00-{traceId}-00f067aa0ba902b7-01");   // the caller's trace
        post.Headers.Add("X-Correlation-Id", "checkout-77");
        using var response = await shop.Client.SendAsync(post);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        using var created = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var id = created.RootElement.GetProperty("id").GetGuid();

        // Every application's events of this order, as served in its notification log.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        List<JsonElement> items;
        do
        {
            items = [];
            foreach (var application in new[] { "Orders", "Reservations", "Payments" })
            {
                using var log = JsonDocument.Parse(await shop.Client.GetStringAsync($"/logs/{application}/1,10"));
                items.AddRange(log.RootElement.GetProperty("items").EnumerateArray().Select(i => i.Clone())
                    .Where(i => i.GetProperty("originatorId").GetGuid() == id || Convert.FromBase64String(i.GetProperty("state").GetString()!).AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(id.ToString())) >= 0));
            }
            if (items.Count < 5) await Task.Delay(50);
        }
        while (items.Count < 5 && DateTime.UtcNow < deadline);

        Assert.Equal(5, items.Count);   // Created, Reserved, Paid; the reservation; the payment
        Assert.All(items, item =>
        {
            var metadata = item.GetProperty("metadata");
            Assert.Equal("checkout-77", metadata.GetProperty("correlationId").GetString());
            Assert.Equal(traceId, metadata.GetProperty("traceparent").GetString()!.Split('-')[1]);
        });
        Assert.Equal(4, items.Count(i => i.GetProperty("metadata").TryGetProperty("causationId", out _)));   // all but the command's own
    }

    [Fact]
    public async Task A_declined_payment_makes_the_shop_unhealthy()
    {
        await using var shop = await WebShopServer.StartAsync();
        await shop.PlaceOrderAsync(5000); // over the gateway's limit: Payments stops on it
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        HttpResponseMessage response;
        do
        {
            response = await shop.Client.GetAsync("/health");
            if (response.StatusCode == HttpStatusCode.OK) await Task.Delay(50);
        }
        while (response.StatusCode == HttpStatusCode.OK && DateTime.UtcNow < deadline);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("Unhealthy", body, StringComparison.Ordinal);
        Assert.Contains("Card declined", body, StringComparison.Ordinal);
    }
}
