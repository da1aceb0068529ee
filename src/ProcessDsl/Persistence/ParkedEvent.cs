namespace ProcessDsl;

/// <summary>
/// An upstream event a follower set aside after its policy failed on it every attempt (only when
/// <see cref="ProcessingOptions.ParkFailingEvents"/> is on): written in the same transaction that
/// moved the follower's position past it. Retry it with <see cref="Runner.RetryParkedAsync"/>.
/// </summary>
/// <param name="Application">The following application.</param>
/// <param name="Upstream">The upstream application.</param>
/// <param name="NotificationId">The upstream notification id.</param>
/// <param name="Topic">The event's topic.</param>
/// <param name="ExceptionType">The full name of the exception the policy threw the last time.</param>
/// <param name="Message">Its message.</param>
/// <param name="Attempts">How often the policy was tried.</param>
/// <param name="ParkedAt">When it was parked (UTC).</param>
public sealed record ParkedEvent(string Application, string Upstream, long NotificationId, string Topic, string ExceptionType, string Message, int Attempts, DateTimeOffset ParkedAt);
