using ProcessDsl.Generators.Model;

namespace ProcessDsl.Generators.Emitting;

internal static partial class Emitter
{
    /// <summary>An aggregate's apply table: a type switch over its <c>[Apply]</c> methods, most derived event types first.</summary>
    public static (string HintName, string Source) Aggregate(AggregateModel model)
    {
        var writer = NewFile();
        using (OpenType(writer, model.Type))
        {
            writer.WriteLine("/// <inheritdoc/>");
            writer.WriteLine(GeneratedCodeAttribute);
            using (writer.OpenBlock("protected override void ApplyEvent(global::ProcessDsl.DomainEvent domainEvent)"))
            {
                using (writer.OpenBlock("switch (domainEvent)"))
                {
                    foreach (var method in model.Methods)
                    {
                        writer.WriteLine($"case {method.EventType} e:");
                        writer.Indent();
                        writer.WriteLine($"this.{method.MethodName}(e);");
                        writer.WriteLine("break;");
                        writer.Unindent();
                    }
                    // Events without an apply method only advance the version; a user base aggregate may still apply them.
                    writer.WriteLine("default:");
                    writer.Indent();
                    writer.WriteLine("base.ApplyEvent(domainEvent);");
                    writer.WriteLine("break;");
                    writer.Unindent();
                }
            }
        }
        return (HintName(model.Type, "Apply"), writer.ToString());
    }
}
