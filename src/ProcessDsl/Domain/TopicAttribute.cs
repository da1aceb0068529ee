namespace ProcessDsl;

/// <summary>
/// Gives an event type a stable topic, the name under which its events are stored. Without it the
/// topic is the type's full name (<c>Namespace.Outer.Inner</c>), so renaming or moving the class
/// would orphan events already stored: pin the old name here before you rename.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class TopicAttribute(string topic) : Attribute
{
    /// <summary>The topic stored with every event of this type.</summary>
    public string Topic { get; } = topic;
}
