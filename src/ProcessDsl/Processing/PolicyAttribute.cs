namespace ProcessDsl;

/// <summary>
/// Marks a method <c>void M(E e, ProcessingEvent processing)</c> of a <c>partial</c>
/// <see cref="ProcessApplication"/> as its policy for upstream events of type
/// <paramref name="eventType"/>. Repeatable; the parameter may be a base type of each event type.
/// The source generator compiles the policies into the application's dispatch table.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true, Inherited = false)]
public sealed class PolicyAttribute(Type eventType) : Attribute
{
    /// <summary>The upstream event type this policy handles.</summary>
    public Type EventType { get; } = eventType;
}
