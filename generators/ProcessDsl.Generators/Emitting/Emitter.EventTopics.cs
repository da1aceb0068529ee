using ProcessDsl.Generators.Model;

namespace ProcessDsl.Generators.Emitting;

internal static partial class Emitter
{
    public const string EventTopicsHintName = "ProcessDsl.EventTopics.g.cs";

    /// <summary>One module initializer registering every concrete event type of the compilation under its topic.</summary>
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
                using (writer.OpenBlock("internal static void Register()"))
                {
                    foreach (var e in events)
                        writer.WriteLine($"global::ProcessDsl.EventTopics.Register<{e.FullyQualifiedName}>({Literal(e.Topic)});");
                }
            }
        }
        return (EventTopicsHintName, writer.ToString());
    }
}
