namespace ProcessDsl;

/// <summary>
/// Gives an event type a stable topic, the name under which its events are stored, and the version
/// of its shape. Without it the topic is the type's full name (<c>Namespace.Outer.Inner</c>), so
/// renaming or moving the class would orphan events already stored: pin the old name here before
/// you rename.
/// </summary>
/// <remarks>
/// Raise <see cref="Version"/> when the stored shape changes, and add one
/// <see cref="UpcastAttribute"/> step per older version (see <c>docs/evolution.md</c>).
/// </remarks>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class TopicAttribute(string topic) : Attribute
{
    /// <summary>The topic stored with every event of this type.</summary>
    public string Topic { get; } = topic;

    /// <summary>
    /// The current version of the event's shape (1 by default). New events are stored at this
    /// version; older stored events are upgraded by the type's <c>[Upcast(From = k)]</c> steps,
    /// one for each k from 1 to <c>Version - 1</c>.
    /// </summary>
    public int Version { get; set; } = 1;
}
