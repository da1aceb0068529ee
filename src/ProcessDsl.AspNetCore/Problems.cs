using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace ProcessDsl.AspNetCore;

/// <summary>
/// Writes <c>application/problem+json</c> answers through the application's
/// <see cref="IProblemDetailsService"/> (<c>services.AddProblemDetails()</c>, with whatever the
/// application customises), or, where it registered none, as the framework would, in JSON that
/// keeps quotes in messages readable.
/// </summary>
internal static class Problems
{
    private static readonly JsonSerializerOptions s_fallback = new(JsonSerializerDefaults.Web) { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static async Task WriteAsync(HttpContext context, int status, string detail)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.Headers.XContentTypeOptions = "nosniff";
        var problem = new ProblemDetails
        {
            Status = status,
            Title = ReasonPhrase(status),
            Detail = detail,
            Type = "https://tools.ietf.org/html/rfc9110#section-15." + status switch
            {
                400 => "5.1",
                401 => "5.2",
                404 => "5.5",
                405 => "5.6",
                _ => "6.4",
            },
        };
        try
        {
            if (context.RequestServices.GetService<IProblemDetailsService>() is { } service
                && await service.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem }).ConfigureAwait(false))
                return;
            var body = JsonSerializer.SerializeToUtf8Bytes(problem, s_fallback);
            response.ContentType = "application/problem+json";
            response.ContentLength = body.Length;
            if (!HttpMethods.IsHead(context.Request.Method)) await response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away.
        }
    }

    private static string ReasonPhrase(int status) => status switch
    {
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Service Unavailable",
    };
}
