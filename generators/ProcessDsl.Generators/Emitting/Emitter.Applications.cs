using ProcessDsl.Generators.Model;

namespace ProcessDsl.Generators.Emitting;

internal static partial class Emitter
{
    /// <summary>
    /// A process application's dispatch table: <c>HandledTopics</c> and <c>DispatchPolicy</c>, which
    /// matches the topic first and deserialises only what a policy handles.
    /// </summary>
    public static (string HintName, string Source) Application(ApplicationModel model)
    {
        var writer = NewFile();
        using (OpenType(writer, model.Type))
        {
            writer.WriteLine("/// <summary>The topics this application's policies handle (generated from its [Policy] methods).</summary>");
            writer.WriteLine(GeneratedCodeAttribute);
            writer.WriteLine("private static readonly global::System.Collections.Frozen.FrozenSet<string> __processDslHandledTopics =");
            writer.Indent();
            writer.WriteLine("global::System.Collections.Frozen.FrozenSet.ToFrozenSet(");
            writer.Indent();
            if (model.Policies.IsEmpty)
            {
                writer.WriteLine("global::System.Array.Empty<string>(),");
            }
            else
            {
                writer.WriteLine("new string[]");
                writer.WriteLine("{");
                writer.Indent();
                foreach (var policy in model.Policies) writer.WriteLine(Literal(policy.Topic) + ",");
                writer.Unindent();
                writer.WriteLine("},");
            }
            writer.WriteLine("global::System.StringComparer.Ordinal);");
            writer.Unindent();
            writer.Unindent();
            writer.WriteLine();

            writer.WriteLine("/// <inheritdoc/>");
            writer.WriteLine(GeneratedCodeAttribute);
            writer.WriteLine("public override global::System.Collections.Generic.IReadOnlySet<string> HandledTopics => __processDslHandledTopics;");
            writer.WriteLine();

            writer.WriteLine("/// <inheritdoc/>");
            writer.WriteLine(GeneratedCodeAttribute);
            using (writer.OpenBlock("protected override bool DispatchPolicy(global::ProcessDsl.Notification notification, global::ProcessDsl.ProcessingEvent processing)"))
            {
                using (writer.OpenBlock("switch (notification.Topic)"))
                {
                    foreach (var policy in model.Policies)
                    {
                        writer.WriteLine($"case {Literal(policy.Topic)}:");
                        writer.Indent();
                        writer.WriteLine($"this.{policy.MethodName}(global::ProcessDsl.EventTopics.Deserialize<{policy.EventType}>(notification), processing);");
                        writer.WriteLine("return true;");
                        writer.Unindent();
                    }
                    writer.WriteLine("default:");
                    writer.Indent();
                    writer.WriteLine("return false;");
                    writer.Unindent();
                }
            }

            if (!model.RowTypes.IsEmpty)
            {
                writer.WriteLine();
                writer.WriteLine("/// <summary>Creates the tables of the projection rows its policies use (generated from their Save, Delete and Query calls).</summary>");
                writer.WriteLine(GeneratedCodeAttribute);
                using (writer.OpenBlock("protected override void CreateRowTables()"))
                {
                    foreach (var row in model.RowTypes) writer.WriteLine($"this.CreateRowTable<{row}>();");
                }
            }
        }
        return (HintName(model.Type, "Policies"), writer.ToString());
    }
}
