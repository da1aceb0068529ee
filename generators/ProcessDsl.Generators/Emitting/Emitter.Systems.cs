using System.Linq;
using ProcessDsl.Generators.Model;

namespace ProcessDsl.Generators.Emitting;

internal static partial class Emitter
{
    /// <summary><c>public static SystemDefinition Definition</c>: the applications, their factories, who follows whom and their topics.</summary>
    public static (string HintName, string Source) SystemDefinition(SystemModel model)
    {
        var writer = NewFile();
        using (OpenType(writer, model.Type))
        {
            if (model.HasErrors)
            {
                // Written only so that code using Definition still compiles: the build fails on the PDSL error anyway.
                writer.WriteLine($"/// <summary>{model.Name} has errors in its [Pipeline] attributes (see the build's PDSL diagnostics), so it has no definition.</summary>");
                writer.WriteLine(GeneratedCodeAttribute);
                writer.WriteLine("public static global::ProcessDsl.SystemDefinition Definition =>");
                writer.Indent();
                writer.WriteLine($"throw new global::System.InvalidOperationException({Literal($"System '{model.Name}' has errors in its [Pipeline] attributes (see the build's PDSL diagnostics), so it has no definition.")});");
                writer.Unindent();
            }
            else
            {
                WriteDefinition(writer, model);
            }
        }
        return (HintName(model.Type, "System"), writer.ToString());
    }

    private static void WriteDefinition(SourceWriter writer, SystemModel model)
    {
        writer.WriteLine($"/// <summary>The applications of {model.Name} and who follows whom, from its [Pipeline] attributes.</summary>");
        writer.WriteLine(GeneratedCodeAttribute);
        writer.WriteLine("public static global::ProcessDsl.SystemDefinition Definition { get; } = new global::ProcessDsl.SystemDefinition(");
        writer.Indent();
        writer.WriteLine(Literal(model.Name) + ",");
        writer.WriteLine("new global::ProcessDsl.ApplicationDefinition[]");
        writer.WriteLine("{");
        writer.Indent();
        foreach (var application in model.Applications)
        {
            writer.WriteLine("new global::ProcessDsl.ApplicationDefinition(");
            writer.Indent();
            writer.WriteLine(Literal(application.Name) + ",");
            writer.WriteLine($"typeof({application.FullyQualifiedName}),");
            writer.WriteLine(application.HasFactory ? $"static () => new {application.FullyQualifiedName}()," : "null, // built by the container: its constructor takes services");
            writer.WriteLine(StringArray(application.Upstreams) + ",");
            writer.WriteLine(StringArray(application.Topics) + "),");
            writer.Unindent();
        }
        writer.Unindent();
        writer.WriteLine("});");
        writer.Unindent();
    }

    private static string StringArray(EquatableArray<string> values) =>
        values.IsEmpty
            ? "global::System.Array.Empty<string>()"
            : "new string[] { " + string.Join(", ", values.Select(Literal)) + " }";
}
