using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using ProcessDsl;
using ProcessDsl.AspNetCore;

namespace WebShop;

/// <summary>The web shop: the orders system hosted in ASP.NET Core.</summary>
public static class WebShopApp
{
    /// <summary>A request to place an order.</summary>
    /// <param name="Amount">What the order costs (default 10).</param>
    public sealed record PlaceOrder(decimal? Amount);

    /// <summary>An order as GET /orders/{id} shows it.</summary>
    public sealed record OrderView(Guid Id, decimal Amount, string Status, Guid? ReservationId, Guid? PaymentId);

    /// <summary>Builds the application: configuration from appsettings.json, environment and <paramref name="args"/>.</summary>
    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.Services.Configure<WebShopOptions>(builder.Configuration.GetSection("WebShop"));
        builder.Services.AddSingleton<PaymentGateway>();

        // The system: store and runner from configuration ("ProcessDsl:Store", "ProcessDsl:Runner").
        builder.Services.AddProcessDsl(WebShopSystem.Definition, builder.Configuration.GetSection("ProcessDsl"));
        builder.Services.AddHealthChecks().AddProcessDsl(health =>
        {
            health.LagThreshold = builder.Configuration.GetValue("WebShop:LagThreshold", 1000L);
            health.LagWindow = TimeSpan.FromSeconds(builder.Configuration.GetValue("WebShop:LagWindowSeconds", 60));
        });

        // Metrics (Prometheus at /metrics) and traces (OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set).
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("WebShop"))
            .WithMetrics(metrics => metrics
                .AddMeter(ProcessDslDiagnostics.MeterName)
                .AddAspNetCoreInstrumentation()
                .AddPrometheusExporter());
        telemetry.WithTracing(tracing =>
        {
            tracing.AddSource(ProcessDslDiagnostics.ActivitySourceName).AddAspNetCoreInstrumentation();
            if (!string.IsNullOrEmpty(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"])) tracing.AddOtlpExporter();
        });

        var app = builder.Build();

        // The request's trace (ASP.NET Core continues a caller's traceparent) and its X-Correlation-Id
        // are stored with the order's events and carried on through every application.
        app.MapPost("/orders", async (PlaceOrder? request, Orders orders, HttpContext http, CancellationToken cancellationToken) =>
        {
            var amount = request?.Amount ?? 10m;
            if (amount <= 0) return Results.ValidationProblem(new Dictionary<string, string[]> { ["amount"] = ["The amount must be positive."] });
            var correlation = http.Request.Headers["X-Correlation-Id"].ToString();
            using var scope = correlation.Length > 0 ? EventMetadata.Correlate(correlation) : null;
            var id = await orders.CreateNewOrderAsync(amount, cancellationToken);
            return Results.Created($"/orders/{id}", new { id });
        });
        app.MapGet("/orders/{id:guid}", async (Guid id, Orders orders, CancellationToken cancellationToken) => await orders.FindOrderAsync(id, cancellationToken) is { } order
            ? Results.Ok(new OrderView(order.Id, order.Amount, order.PaymentId is not null ? "paid" : order.ReservationId is not null ? "reserved" : "new", order.ReservationId, order.PaymentId))
            : Results.NotFound());

        // The applications' notification logs, for followers elsewhere (RemoteNotificationLog).
        app.MapNotificationLogs("/logs", name =>
        {
            var definition = WebShopSystem.Definition.Applications.FirstOrDefault(a => a.Name.Equals(name, StringComparison.OrdinalIgnoreCase));
            return definition is null ? null : app.Services.GetRequiredService<Runner>().Get(definition.Name).NotificationLog;
        });

        app.MapHealthChecks("/health", new HealthCheckOptions { ResponseWriter = WriteHealthAsync });
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapProcessDslDashboard("/processdsl");
        app.MapGet("/", () => Results.Redirect("/processdsl"));
        return app;
    }

    private static Task WriteHealthAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        return context.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), description = e.Value.Description }),
        }));
    }
}
