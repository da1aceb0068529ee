using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace ProcessDsl;

/// <summary>
/// The synchronous publish table: handlers run in-process right after a successful save, best
/// effort. They are never the reliable path (a crash after the commit skips them): use a
/// <see cref="ProcessApplication"/> for anything that must happen. The source generator registers
/// every <see cref="SubscribeToAttribute"/> method here.
/// </summary>
public static class Subscriptions
{
    private static readonly ConcurrentDictionary<Type, Action<DomainEvent>[]> s_handlers = new();

    // ConcurrentDictionary.IsEmpty takes every lock of the table: far too dear for every save.
    private static volatile bool s_any;

    /// <summary>Calls <paramref name="handler"/> for every saved event of exactly type <typeparamref name="TEvent"/>.</summary>
    public static void Subscribe<TEvent>(Action<TEvent> handler) where TEvent : DomainEvent
    {
        ArgumentNullException.ThrowIfNull(handler);
        Action<DomainEvent> wrapped = e => handler((TEvent)e);
        s_handlers.AddOrUpdate(typeof(TEvent), [wrapped], (_, existing) => [.. existing, wrapped]);
        s_any = true;
    }

    internal static void Publish(IReadOnlyList<DomainEvent> events, ILogger logger)
    {
        if (!s_any) return;
        foreach (var e in events)
        {
            if (!s_handlers.TryGetValue(e.GetType(), out var handlers)) continue;
            foreach (var handler in handlers)
            {
                try
                {
                    handler(e);
                }
                catch (Exception ex)
                {
                    // Best effort by design: the events are committed; a subscriber's failure must not undo or hide that.
                    logger.LogWarning(ex, "Synchronous subscriber for {EventType} failed", e.GetType().Name);
                }
            }
        }
    }
}
