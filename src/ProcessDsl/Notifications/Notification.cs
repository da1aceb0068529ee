namespace ProcessDsl;

/// <summary>
/// One item of an application's notification log: a stored domain event with its position in the
/// application sequence.
/// </summary>
/// <param name="Id">The notification id: 1, 2, 3, ... contiguous, in commit order.</param>
/// <param name="OriginatorId">The aggregate the event belongs to.</param>
/// <param name="OriginatorVersion">The aggregate's version after the event.</param>
/// <param name="Topic">The event's topic (see <see cref="TopicAttribute"/>).</param>
/// <param name="State">The event serialised as UTF-8 JSON.</param>
/// <param name="Version">The version of the event class it was written at (1 for events stored before versions existed).</param>
/// <param name="Metadata">Where the event came from (trace context, correlation and causation ids), if that was recorded.</param>
public sealed record Notification(long Id, Guid OriginatorId, long OriginatorVersion, string Topic, byte[] State, int Version = 1, EventMetadata? Metadata = null);
