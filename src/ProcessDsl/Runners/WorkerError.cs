using System.Text.Json;

namespace ProcessDsl;

/// <summary>How a worker process tells its parent that a follower stopped: one line on standard error.</summary>
internal static class WorkerError
{
    public const string Prefix = "PROCESSDSL-ERROR ";

    /// <summary>The exit code of a worker whose follower stopped with a <see cref="ProcessingException"/>.</summary>
    public const int ExitCode = 3;

    internal sealed record Payload(string Application, string Upstream, long NotificationId, string Topic, string ExceptionType, string Message);

    public static string Format(ProcessingException error) =>
        Prefix + JsonSerializer.Serialize(new Payload(error.Application, error.Upstream, error.NotificationId, error.Topic,
            error.InnerException?.GetType().FullName ?? "", error.InnerException?.Message ?? error.Message), WorkerJson.Default.Payload);

    public static ProcessingException? Parse(string line)
    {
        if (!line.StartsWith(Prefix, StringComparison.Ordinal)) return null;
        try
        {
            var p = JsonSerializer.Deserialize(line.AsSpan(Prefix.Length), WorkerJson.Default.Payload);
            if (p is null) return null;
            return new ProcessingException(p.Application, p.Upstream, p.NotificationId, p.Topic, new WorkerProcessException(p.ExceptionType, p.Message));
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>An exception raised in a worker process, as reported to the parent.</summary>
public sealed class WorkerProcessException(string exceptionType, string message) : Exception($"{exceptionType}: {message}")
{
    /// <summary>The full name of the exception's type in the worker.</summary>
    public string ExceptionType { get; } = exceptionType;
}
