using ProcessDsl.Generators.Model;

namespace ProcessDsl.Generators.Emitting;

internal static partial class Emitter
{
    public const string EventTopicsHintName = "ProcessDsl.EventTopics.g.cs";

    /// <summary>
    /// One module initializer registering every concrete event type of the compilation under its topic,
    /// with its version and upcast chain. Steps the registry cannot call directly (private ones) go
    /// through an <c>UnsafeAccessor</c>, which binds at JIT time: still no reflection at run time.
    /// </summary>
    public static (string HintName, string Source) EventTopics(EquatableArray<EventTypeModel> events)
    {
        var writer = NewFile();
        writer.WriteLine("namespace ProcessDsl.Generated");
        using (writer.OpenBlock())
        {
            writer.WriteLine("/// <summary>Registers this assembly's domain event types with their topics when the assembly loads.</summary>");
            writer.WriteLine(GeneratedCodeAttribute);
            using (writer.OpenBlock("internal static class ProcessDslEventTopics"))
            {
                writer.WriteLine("[global::System.Runtime.CompilerServices.ModuleInitializer]");
                var accessors = new System.Collections.Generic.List<(string Name, string EventType, string MetadataName)>();
                using (writer.OpenBlock("internal static void Register()"))
                {
                    foreach (var e in events)
                    {
                        if (e.Upcasts.IsEmpty)
                        {
                            writer.WriteLine($"global::ProcessDsl.EventTopics.Register<{e.FullyQualifiedName}>({Literal(e.Topic)});");
                            continue;
                        }
                        var steps = new System.Collections.Generic.List<string>();
                        foreach (var upcast in e.Upcasts)
                        {
                            if (upcast.Accessible)
                            {
                                steps.Add($"{e.FullyQualifiedName}.{upcast.Name}");
                                continue;
                            }
                            var accessor = "__Upcast" + accessors.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
                            accessors.Add((accessor, e.FullyQualifiedName, upcast.MetadataName));
                            steps.Add($"static state => {accessor}(null, state)");
                        }
                        var version = e.Version.ToString(System.Globalization.CultureInfo.InvariantCulture);
                        writer.WriteLine($"global::ProcessDsl.EventTopics.Register<{e.FullyQualifiedName}>({Literal(e.Topic)}, {version},");
                        writer.Indent();
                        for (var i = 0; i < steps.Count; i++)
                            writer.WriteLine(steps[i] + (i == steps.Count - 1 ? ");" : ","));
                        writer.Unindent();
                    }
                }
                foreach (var (name, eventType, metadataName) in accessors)
                {
                    writer.WriteLine();
                    writer.WriteLine($"[global::System.Runtime.CompilerServices.UnsafeAccessor(global::System.Runtime.CompilerServices.UnsafeAccessorKind.StaticMethod, Name = {Literal(metadataName)})]");
                    writer.WriteLine($"private static extern void {name}({eventType}? type, global::System.Text.Json.Nodes.JsonObject state);");
                }
            }
        }
        return (EventTopicsHintName, writer.ToString());
    }
}
