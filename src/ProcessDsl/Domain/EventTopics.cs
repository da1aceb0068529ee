using System.Collections.Concurrent;
using System.Text.Json;

namespace ProcessDsl;

/// <summary>
/// The topic registry: which event type is stored under which topic, and how it is
/// (de)serialised. The source generator registers every concrete <see cref="DomainEvent"/> type of
/// a compilation from a module initializer, so user code rarely calls <see cref="Register{TEvent}"/>.
/// </summary>
/// <remarks>
/// Events are serialised with System.Text.Json through generic calls per registered type, so
/// nothing here dispatches on <see cref="Type"/> by reflection.
/// </remarks>
public static class EventTopics
{
    private sealed record Entry(string Topic, Type Type, Func<DomainEvent, byte[]> Serialize, Func<ReadOnlyMemory<byte>, DomainEvent?> Deserialize);

    private static readonly ConcurrentDictionary<Type, Entry> s_byType = new();
    private static readonly ConcurrentDictionary<string, Entry> s_byTopic = new(StringComparer.Ordinal);

    /// <summary>The serializer options used for every stored event.</summary>
    public static JsonSerializerOptions SerializerOptions { get; } = new(JsonSerializerDefaults.General);

    /// <summary>
    /// Registers <typeparamref name="TEvent"/> under <paramref name="topic"/>. Registering the same
    /// pair again is harmless; giving one topic to two types, or two topics to one type, throws.
    /// </summary>
    public static void Register<TEvent>(string topic) where TEvent : DomainEvent
    {
        ValidateTopic(topic);
        var entry = new Entry(
            topic,
            typeof(TEvent),
            static e => JsonSerializer.SerializeToUtf8Bytes((TEvent)e, SerializerOptions),
            static bytes => JsonSerializer.Deserialize<TEvent>(bytes.Span, SerializerOptions));
        var byTopic = s_byTopic.GetOrAdd(topic, entry);
        if (byTopic.Type != typeof(TEvent))
            throw new InvalidOperationException(
                $"Topic '{topic}' is already registered for {byTopic.Type.FullName}; {typeof(TEvent).FullName} needs another topic: give one of them [Topic(\"...\")].");
        var byType = s_byType.GetOrAdd(typeof(TEvent), entry);
        if (byType.Topic != topic)
            throw new InvalidOperationException(
                $"{typeof(TEvent).FullName} is already registered under topic '{byType.Topic}', not '{topic}'.");
    }

    /// <summary>The default topic of a type: its full name with nested types joined by dots.</summary>
    public static string DefaultTopicOf(Type eventType) =>
        (eventType.FullName ?? eventType.Name).Replace('+', '.');

    /// <summary>The topic under which events of <paramref name="eventType"/> are stored.</summary>
    /// <exception cref="InvalidOperationException">The type is not registered.</exception>
    public static string TopicOf(Type eventType) => EntryOf(eventType).Topic;

    /// <summary>Whether a topic is registered, and for which type.</summary>
    public static bool TryGetType(string topic, out Type? eventType)
    {
        if (s_byTopic.TryGetValue(topic, out var entry))
        {
            eventType = entry.Type;
            return true;
        }
        eventType = null;
        return false;
    }

    /// <summary>Serialises an event to its topic and UTF-8 JSON state.</summary>
    public static (string Topic, byte[] State) Serialize(DomainEvent domainEvent)
    {
        ArgumentNullException.ThrowIfNull(domainEvent);
        var entry = EntryOf(domainEvent.GetType());
        return (entry.Topic, entry.Serialize(domainEvent));
    }

    /// <summary>Deserialises a stored notification by its topic.</summary>
    /// <exception cref="EventDeserializationException">The topic is unknown or the state is not a valid event of it.</exception>
    public static DomainEvent Deserialize(Notification notification)
    {
        ArgumentNullException.ThrowIfNull(notification);
        if (!s_byTopic.TryGetValue(notification.Topic, out var entry))
            throw new EventDeserializationException(notification.Id, notification.Topic,
                "no event type is registered for this topic (was the event class renamed or removed? pin its old name with [Topic(\"...\")])");
        return Check(notification, () => entry.Deserialize(notification.State));
    }

    /// <summary>
    /// Deserialises a notification as <typeparamref name="TEvent"/>: the fast path of generated
    /// dispatch, which has already matched the topic.
    /// </summary>
    /// <exception cref="EventDeserializationException">The state is not a valid <typeparamref name="TEvent"/>.</exception>
    public static TEvent Deserialize<TEvent>(Notification notification) where TEvent : DomainEvent
    {
        ArgumentNullException.ThrowIfNull(notification);
        try
        {
            var value = JsonSerializer.Deserialize<TEvent>(notification.State, SerializerOptions);
            return value ?? throw new EventDeserializationException(notification.Id, notification.Topic, "the state is JSON null");
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException or ArgumentException or InvalidOperationException)
        {
            throw new EventDeserializationException(notification.Id, notification.Topic, ex.Message, ex);
        }
    }

    private static DomainEvent Check(Notification notification, Func<DomainEvent?> read)
    {
        try
        {
            return read() ?? throw new EventDeserializationException(notification.Id, notification.Topic, "the state is JSON null");
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException or ArgumentException or InvalidOperationException)
        {
            throw new EventDeserializationException(notification.Id, notification.Topic, ex.Message, ex);
        }
    }

    private static Entry EntryOf(Type eventType) =>
        s_byType.TryGetValue(eventType, out var entry)
            ? entry
            : throw new InvalidOperationException(
                $"Event type {eventType.FullName} has no registered topic. Declare it in a project that references the ProcessDsl " +
                "source generator (it registers every DomainEvent type), or call EventTopics.Register<T>(topic) at start-up.");

    internal static void ValidateTopic(string topic)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(topic);
        if (topic.Length > 400)
            throw new ArgumentException($"Topic '{topic[..40]}...' is longer than 400 characters.", nameof(topic));
    }
}
