namespace ProcessDsl;

/// <summary>
/// Marks a <c>static void M(System.Text.Json.Nodes.JsonObject state)</c> method nested in an event
/// type as the step that upgrades the stored JSON of version <see cref="From"/> to version
/// <c>From + 1</c>. When an older event is read, the steps from its stored version up to the
/// current <see cref="TopicAttribute.Version"/> run in order on its JSON (property names as
/// <see cref="EventTopics.SerializerOptions"/> writes them), then the JSON is deserialised. The
/// source generator compiles the steps into the topic registry; nothing is looked up by reflection.
/// </summary>
/// <example>
/// <code>
/// [Topic("Shop.Order.Created", Version = 2)]
/// public sealed record Created(string Customer, string Currency) : DomainEvent
/// {
///     [Upcast(From = 1)]
///     static void FromV1(JsonObject state) => state["Currency"] = "EUR";
/// }
/// </code>
/// </example>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class UpcastAttribute : Attribute
{
    /// <summary>The stored version this step upgrades (to <c>From + 1</c>).</summary>
    public int From { get; set; }
}
