using System.Text.Json;

namespace ProcessDsl;

/// <summary>
/// Copies another application's notifications into an application verbatim (same notification
/// ids, originators, versions, topics and states), as a replicator does: the replica's own
/// newest notification id is then the position to resume reading the original's log from.
/// </summary>
public static class Replication
{
    /// <summary>
    /// Appends copies of <paramref name="notifications"/> (contiguous ids, the first being the next
    /// id of the replica's sequence) atomically: all or none. Events need not be of registered
    /// types; they are not deserialised. Followers of the replica are prompted as after a save.
    /// </summary>
    /// <returns>The replica's newest notification id afterwards.</returns>
    /// <exception cref="ConcurrencyException">
    /// Some of these events are already stored (another replicator copied them first): nothing was
    /// stored; read the replica's newest id again and resume from there.
    /// </exception>
    /// <exception cref="InvalidOperationException">
    /// The ids do not continue the replica's sequence (its log has events that are not copies), or
    /// are not contiguous.
    /// </exception>
    public static long AppendCopies(this Application replica, IReadOnlyList<Notification> notifications)
    {
        ArgumentNullException.ThrowIfNull(replica);
        ArgumentNullException.ThrowIfNull(notifications);
        if (notifications.Count == 0) return replica.NotificationLog.MaxNotificationId;
        for (var i = 1; i < notifications.Count; i++)
            if (notifications[i].Id != notifications[i - 1].Id + 1)
                throw new InvalidOperationException(
                    $"Copies for '{replica.Name}' must have contiguous ids: {notifications[i - 1].Id} is followed by {notifications[i].Id}.");
        var first = notifications[0].Id;
        var max = replica.NotificationLog.MaxNotificationId;
        if (first <= max)
        {
            // Already copied by someone else; the store's unique (originator, version) says so for
            // certain, but there is no need to try.
            var taken = notifications[0];
            throw new ConcurrencyException(replica.Name, taken.OriginatorId, taken.OriginatorVersion);
        }
        if (first != max + 1)
            throw new InvalidOperationException(
                $"Copies for '{replica.Name}' start at notification {first}, but its log ends at {max}: a replica's log must hold copies only, from id 1 on.");

        var events = new NewEvent[notifications.Count];
        for (var i = 0; i < events.Length; i++)
        {
            var n = notifications[i];
            events[i] = new NewEvent(n.OriginatorId, n.OriginatorVersion, n.Topic, n.State, TimestampOf(n.State), n.Version, n.Metadata);
        }
        // A racing replicator that stored any of these first makes this append fail on the unique
        // (originator id, version) of the very first copy, so ids cannot shift.
        var last = replica.Store.AppendSave(events);
        if (last != notifications[^1].Id)
            throw new InvalidOperationException(
                $"Copies for '{replica.Name}' were stored up to id {last}, not {notifications[^1].Id}: the replica's log has events that are not copies.");
        replica.Saved?.Invoke(replica, last);
        return last;
    }

    /// <summary>The event's own timestamp from its stored JSON, or now when it has none.</summary>
    private static DateTimeOffset TimestampOf(byte[] state)
    {
        try
        {
            var reader = new Utf8JsonReader(state);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return DateTimeOffset.UtcNow;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isTimestamp = reader.ValueTextEquals("Timestamp"u8);
                reader.Read();
                if (isTimestamp && reader.TokenType == JsonTokenType.String && reader.TryGetDateTimeOffset(out var timestamp)) return timestamp;
                reader.Skip();
            }
        }
        catch (JsonException)
        {
            // Not JSON: the copy is stored all the same, stamped now.
        }
        return DateTimeOffset.UtcNow;
    }
}
