using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;

namespace ProcessDsl;

/// <summary>
/// The topic registry: which event type is stored under which topic, and how it is
/// (de)serialised. The source generator registers every concrete <see cref="DomainEvent"/> type of
/// a compilation from a module initializer, so user code rarely calls <see cref="Register{TEvent}(string, int, Action{JsonObject}[])"/>.
/// </summary>
/// <remarks>
/// Events are serialised with System.Text.Json through generic calls per registered type, so
/// nothing here dispatches on <see cref="Type"/> by reflection. An event type has a version (see
/// <see cref="TopicAttribute.Version"/>); events are written at the current one, and reading an
/// older event runs its upcast steps on the stored JSON first (see <see cref="UpcastAttribute"/>).
/// </remarks>
public static class EventTopics
{
    private sealed record Entry(
        string Topic,
        Type Type,
        int Version,
        Action<JsonObject>[] Upcasts,
        Func<DomainEvent, byte[]> Serialize,
        Func<ReadOnlyMemory<byte>, DomainEvent?> Deserialize,
        Func<JsonObject, DomainEvent?> DeserializeUpcast);

    /// <summary>
    /// The registration of one event type and its JSON contract (taken from <see cref="SerializerOptions"/>
    /// on first use), found without a dictionary lookup on the generic fast path.
    /// </summary>
    private static class Registered<TEvent>
    {
        public static Entry? Entry;

        private static JsonTypeInfo<TEvent>? s_contract;

        public static JsonTypeInfo<TEvent> Contract => s_contract ??= (JsonTypeInfo<TEvent>)SerializerOptions.GetTypeInfo(typeof(TEvent));
    }

    private static readonly ConcurrentDictionary<Type, Entry> s_byType = new();
    private static readonly ConcurrentDictionary<string, Entry> s_byTopic = new(StringComparer.Ordinal);

    private static readonly EventContracts s_contracts = new();

    /// <summary>
    /// The serializer options used for every stored event. The stored state leaves out
    /// <see cref="DomainEvent.OriginatorId"/> and <see cref="DomainEvent.OriginatorVersion"/>: every
    /// store keeps them in columns of their own, and reading an event sets them from those columns
    /// (state written with them, by earlier versions, is read the same way: the columns win).
    /// </summary>
    /// <remarks>
    /// Contracts come first from the resolvers given to <see cref="AddJsonTypeInfoResolver"/>, in the
    /// order given, then from reflection (where the application allows reflection-based
    /// serialization: not under Native AOT or trimming). Set its resolver through
    /// <see cref="AddJsonTypeInfoResolver"/>, not <see cref="JsonSerializerOptions.TypeInfoResolverChain"/>,
    /// so that every contract leaves out the two columns.
    /// </remarks>
    public static JsonSerializerOptions SerializerOptions { get; } = new(JsonSerializerDefaults.General)
    {
        TypeInfoResolver = s_contracts,
    };

    /// <summary>
    /// Adds a source of event contracts, usually a <see cref="System.Text.Json.Serialization.JsonSerializerContext"/>
    /// with a <c>[JsonSerializable(typeof(...))]</c> for each event type, asked before the ones added
    /// earlier and before reflection. Generated contracts need no reflection and no code generation at
    /// run time: a program published with Native AOT or trimmed has no other source, so every event
    /// type it stores or reads needs one there. Elsewhere they also make the first event of each type
    /// cheaper. Call it at start-up, before the first event of a type it covers is stored or read
    /// (events are written and read the same way either way: the stored JSON does not change).
    /// </summary>
    /// <exception cref="InvalidOperationException">
    /// <paramref name="resolver"/> has a contract for an event type that has already been serialised
    /// or read with a contract from another source.
    /// </exception>
    public static void AddJsonTypeInfoResolver(IJsonTypeInfoResolver resolver)
    {
        ArgumentNullException.ThrowIfNull(resolver);
        s_contracts.Add(resolver);
    }

    /// <summary>
    /// Where the event contracts come from: the added resolvers (newest first), then reflection if the
    /// application allows it; each object contract of an event loses the two columns' properties.
    /// </summary>
    private sealed class EventContracts : IJsonTypeInfoResolver
    {
        private readonly Lock _gate = new();
        private volatile IJsonTypeInfoResolver[] _added = [];
        private readonly IJsonTypeInfoResolver? _reflection = ReflectionResolver();
        private readonly ConcurrentDictionary<Type, bool> _resolved = new();

        public void Add(IJsonTypeInfoResolver resolver)
        {
            lock (_gate)
            {
                foreach (var type in _resolved.Keys)
                {
                    if (resolver.GetTypeInfo(type, SerializerOptions) is not null)
                        throw new InvalidOperationException(
                            $"Events of {type.FullName} have already been serialised or read with another JSON contract: " +
                            "add the resolver that has its contract at start-up, before the first event of that type is stored or read.");
                }
                _added = [resolver, .. _added];
            }
        }

        public JsonTypeInfo? GetTypeInfo(Type type, JsonSerializerOptions options)
        {
            JsonTypeInfo? info = null;
            foreach (var resolver in _added)
            {
                if ((info = resolver.GetTypeInfo(type, options)) is not null) break;
            }
            info ??= _reflection?.GetTypeInfo(type, options);
            if (typeof(DomainEvent).IsAssignableFrom(type))
            {
                if (info is null)
                    throw new InvalidOperationException(
                        $"There is no JSON contract for the event type {type.FullName}: reflection-based serialization is off here (Native AOT or trimming), " +
                        $"so give it one: a JsonSerializerContext with [JsonSerializable(typeof({type.Name}))], added at start-up with EventTopics.AddJsonTypeInfoResolver.");
                _resolved.TryAdd(type, true);
                if (info.Kind == JsonTypeInfoKind.Object) LeaveOutOrigin(info);
            }
            return info;
        }

        [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Only where the application allows reflection-based serialization (JsonSerializer.IsReflectionEnabledByDefault), which trimming and Native AOT turn off.")]
        [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "Only where the application allows reflection-based serialization (JsonSerializer.IsReflectionEnabledByDefault), which trimming and Native AOT turn off.")]
        private static DefaultJsonTypeInfoResolver? ReflectionResolver() =>
            JsonSerializer.IsReflectionEnabledByDefault ? new DefaultJsonTypeInfoResolver() : null;
    }

    /// <summary>Removes the originator id and version, which the store's columns carry, from an event's JSON contract.</summary>
    private static void LeaveOutOrigin(JsonTypeInfo info)
    {
        for (var i = info.Properties.Count - 1; i >= 0; i--)
        {
            var property = info.Properties[i];
            if (property.DeclaringType != typeof(DomainEvent)) continue;
            // The member's own name where the contract gives it (the JSON name may follow a naming policy).
            var name = property.AttributeProvider is MemberInfo member ? member.Name : property.Name;
            if (name is not (nameof(DomainEvent.OriginatorId) or nameof(DomainEvent.OriginatorVersion))) continue;
            // A generated contract sets init-only properties as it does constructor parameters: such a
            // property stays (to bind), and is never written.
            if (property.AssociatedParameter is null) info.Properties.RemoveAt(i);
            else property.ShouldSerialize = static (_, _) => false;
        }
    }

    /// <summary>
    /// Registers <typeparamref name="TEvent"/> under <paramref name="topic"/> at version 1. Registering the same
    /// pair again is harmless; giving one topic to two types, or two topics to one type, throws.
    /// </summary>
    public static void Register<TEvent>(string topic) where TEvent : DomainEvent => Register<TEvent>(topic, 1);

    /// <summary>
    /// Registers <typeparamref name="TEvent"/> under <paramref name="topic"/> at its current
    /// <paramref name="version"/>, with the steps that upgrade older stored JSON:
    /// <c>upcasts[i]</c> upgrades version <c>i + 1</c> to <c>i + 2</c>, so there is exactly one step
    /// per version below the current one. Registering the same type, topic and version again is
    /// harmless; a different topic or version for a registered type, or a registered topic for
    /// another type, throws.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="version"/> is below 1.</exception>
    /// <exception cref="ArgumentException">The number of steps is not <c>version - 1</c>, or a step is null.</exception>
    /// <exception cref="InvalidOperationException">The type or the topic is already registered differently.</exception>
    public static void Register<TEvent>(string topic, int version, params Action<JsonObject>[] upcasts) where TEvent : DomainEvent
    {
        ValidateTopic(topic);
        ArgumentOutOfRangeException.ThrowIfLessThan(version, 1);
        ArgumentNullException.ThrowIfNull(upcasts);
        if (upcasts.Length != version - 1)
            throw new ArgumentException(
                $"{typeof(TEvent).FullName} is at version {version}, so it needs {version - 1} upcast step(s) (one from each older version), not {upcasts.Length}.",
                nameof(upcasts));
        if (Array.IndexOf(upcasts, null) is var missing and >= 0)
            throw new ArgumentException($"The upcast step from version {missing + 1} of {typeof(TEvent).FullName} is null.", nameof(upcasts));
        var entry = new Entry(
            topic,
            typeof(TEvent),
            version,
            upcasts.ToArray(),
            static e => JsonSerializer.SerializeToUtf8Bytes((TEvent)e, Registered<TEvent>.Contract),
            static bytes => JsonSerializer.Deserialize(bytes.Span, Registered<TEvent>.Contract),
            static state => state.Deserialize(Registered<TEvent>.Contract));
        var byTopic = s_byTopic.GetOrAdd(topic, entry);
        if (byTopic.Type != typeof(TEvent))
            throw new InvalidOperationException(
                $"Topic '{topic}' is already registered for {byTopic.Type.FullName}; {typeof(TEvent).FullName} needs another topic: give one of them [Topic(\"...\")].");
        var byType = s_byType.GetOrAdd(typeof(TEvent), entry);
        if (byType.Topic != topic)
            throw new InvalidOperationException(
                $"{typeof(TEvent).FullName} is already registered under topic '{byType.Topic}', not '{topic}'.");
        if (byType.Version != version)
            throw new InvalidOperationException(
                $"{typeof(TEvent).FullName} is already registered at version {byType.Version}, not {version}.");
        Registered<TEvent>.Entry ??= byType;
    }

    /// <summary>
    /// The current version of <paramref name="eventType"/>: the version new events are stored at
    /// (1 for a type registered without one, and for an unregistered type).
    /// </summary>
    public static int VersionOf(Type eventType)
    {
        ArgumentNullException.ThrowIfNull(eventType);
        return s_byType.TryGetValue(eventType, out var entry) ? entry.Version : 1;
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

    /// <summary>
    /// Deserialises a stored notification by its topic, first upgrading state stored at an older
    /// version with the type's upcast steps.
    /// </summary>
    /// <exception cref="EventDeserializationException">
    /// The topic is unknown, the stored version is above the current one, an upcast step failed, or
    /// the state is not a valid event of the topic.
    /// </exception>
    public static DomainEvent Deserialize(Notification notification)
    {
        ArgumentNullException.ThrowIfNull(notification);
        if (TakeDecoded<DomainEvent>(notification) is { } ready) return ready;
        if (!s_byTopic.TryGetValue(notification.Topic, out var entry))
            throw new EventDeserializationException(notification.Id, notification.Topic,
                "no event type is registered for this topic (was the event class renamed or removed? pin its old name with [Topic(\"...\")])");
        var state = notification.Version == entry.Version ? null : Upcast(notification, entry);
        DomainEvent? value;
        try
        {
            value = state is null ? entry.Deserialize(notification.State) : entry.DeserializeUpcast(state);
        }
        catch (Exception ex) when (IsUnreadable(ex))
        {
            throw new EventDeserializationException(notification.Id, notification.Topic, ex.Message, ex);
        }
        return Stamped(notification, value);
    }

    /// <summary>
    /// Deserialises a notification as <typeparamref name="TEvent"/>: the fast path of generated
    /// dispatch, which has already matched the topic. State stored at an older version is upgraded
    /// with the type's upcast steps first; state at the current version is read as it is.
    /// </summary>
    /// <exception cref="EventDeserializationException">
    /// The stored version is above the current one, an upcast step failed, or the state is not a
    /// valid <typeparamref name="TEvent"/>.
    /// </exception>
    public static TEvent Deserialize<TEvent>(Notification notification) where TEvent : DomainEvent
    {
        ArgumentNullException.ThrowIfNull(notification);
        if (TakeDecoded<TEvent>(notification) is { } ready) return ready;
        var entry = Registered<TEvent>.Entry;
        try
        {
            TEvent? value;
            if (notification.Version == (entry?.Version ?? 1))
            {
                value = JsonSerializer.Deserialize(notification.State, Registered<TEvent>.Contract);
            }
            else
            {
                var state = entry is null
                    ? throw new EventDeserializationException(notification.Id, notification.Topic,
                        $"it was stored at version {notification.Version}, but {typeof(TEvent).FullName} is not registered with a version or upcast steps")
                    : Upcast(notification, entry);
                value = state.Deserialize(Registered<TEvent>.Contract);
            }
            return Stamped(notification, value);
        }
        catch (Exception ex) when (IsUnreadable(ex))
        {
            throw new EventDeserializationException(notification.Id, notification.Topic, ex.Message, ex);
        }
    }

    // The event of the notification being dispatched on this thread, when it was deserialised ahead
    // (a follower decodes the batch it reads ahead on the reading thread): taken once, by reference.
    [ThreadStatic] private static Notification? t_decodedFor;
    [ThreadStatic] private static DomainEvent? t_decoded;

    /// <summary>
    /// Makes <paramref name="decoded"/> (deserialised earlier from <paramref name="notification"/>)
    /// what the next <see cref="Deserialize{TEvent}"/> of that same notification object on this thread
    /// returns, once, until the scope is disposed. A null event sets nothing.
    /// </summary>
    internal static DecodedScope Decoded(Notification notification, DomainEvent? decoded)
    {
        if (decoded is null) return default;
        var scope = new DecodedScope(t_decodedFor, t_decoded, set: true);
        t_decodedFor = notification;
        t_decoded = decoded;
        return scope;
    }

    /// <summary>Puts back what was decoded ahead before <see cref="Decoded"/> (nothing, outside a dispatch).</summary>
    internal readonly struct DecodedScope(Notification? previousFor, DomainEvent? previous, bool set) : IDisposable
    {
        public void Dispose()
        {
            if (!set) return;
            t_decodedFor = previousFor;
            t_decoded = previous;
        }
    }

    private static TEvent? TakeDecoded<TEvent>(Notification notification) where TEvent : DomainEvent
    {
        if (t_decoded is not TEvent ready || !ReferenceEquals(t_decodedFor, notification)) return null;
        t_decoded = null;
        t_decodedFor = null;
        return ready;
    }

    /// <summary>What System.Text.Json throws for state that is not a valid event of its type.</summary>
    private static bool IsUnreadable(Exception ex) => ex is JsonException or NotSupportedException or ArgumentException or InvalidOperationException;

    /// <summary>A deserialised event with the aggregate id and version of its notification's columns; JSON null is an error.</summary>
    private static TEvent Stamped<TEvent>(Notification notification, TEvent? value) where TEvent : DomainEvent
    {
        if (value is null) throw new EventDeserializationException(notification.Id, notification.Topic, "the state is JSON null");
        value.SetOrigin(notification.OriginatorId, notification.OriginatorVersion);
        return value;
    }

    /// <summary>Parses stored state and runs the steps from its version up to the current one, in order.</summary>
    private static JsonObject Upcast(Notification notification, Entry entry)
    {
        var stored = notification.Version;
        if (stored > entry.Version)
            throw new EventDeserializationException(notification.Id, notification.Topic,
                $"it was stored at version {stored} of {entry.Type.FullName}, but this build knows version {entry.Version} at most " +
                "(is an older build reading events a newer one wrote? deploy the newer build first)");
        if (stored < 1)
            throw new EventDeserializationException(notification.Id, notification.Topic, $"its stored version {stored} is not valid (versions start at 1)");

        JsonObject state;
        try
        {
            state = JsonNode.Parse(notification.State) as JsonObject
                ?? throw new EventDeserializationException(notification.Id, notification.Topic, "the state is not a JSON object, so it cannot be upcast");
        }
        catch (JsonException ex)
        {
            throw new EventDeserializationException(notification.Id, notification.Topic, ex.Message, ex);
        }
        for (var version = stored; version < entry.Version; version++)
        {
            try
            {
                entry.Upcasts[version - 1](state);
            }
            catch (Exception ex)
            {
                throw new EventDeserializationException(notification.Id, notification.Topic,
                    $"the upcast step from version {version} of {entry.Type.FullName} threw {ex.GetType().Name}: {ex.Message}", ex);
            }
        }
        return state;
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
