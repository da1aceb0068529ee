namespace ProcessDsl;

/// <summary>
/// Marks a static method <c>static void M(E e)</c> of a <c>partial</c> class to be called
/// synchronously, best effort, after every successful save of an event of type
/// <paramref name="eventType"/> (see <see cref="Subscriptions"/>).
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true, Inherited = false)]
public sealed class SubscribeToAttribute(Type eventType) : Attribute
{
    /// <summary>The event type subscribed to.</summary>
    public Type EventType { get; } = eventType;
}
