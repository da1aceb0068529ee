using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using ProcessDsl.Generators.Analyzers;
using ProcessDsl.Generators.CodeFixes;
using ProcessDsl.Generators.Tests.Support;

namespace ProcessDsl.Generators.Tests;

/// <summary>
/// Each code fix applied as an editor applies it: a document in a real <see cref="AdhocWorkspace"/>,
/// the diagnostic from the generator or the analyzer, the fix's operations applied to the solution.
/// Then: the text is what we expect, and the fixed code has no ProcessDsl diagnostic and compiles.
/// </summary>
public sealed class CodeFixTests
{
    private const string Usings = """
        using System;
        using ProcessDsl;

        namespace Cases;

        """;

    [Fact]
    public async Task Make_partial_fixes_PDSL001()
    {
        var fixedSource = await FixAsync("PDSL001", """
            public sealed class Billing : ProcessApplication
            {
                [Policy(typeof(Billing.Opened))]
                void On(Billing.Opened e, ProcessingEvent processing) { }

                public sealed record Opened : DomainEvent;
            }
            """);

        Assert.Equal(Usings + """
            public sealed partial class Billing : ProcessApplication
            {
                [Policy(typeof(Billing.Opened))]
                void On(Billing.Opened e, ProcessingEvent processing) { }

                public sealed record Opened : DomainEvent;
            }
            """, fixedSource);
    }

    [Fact]
    public async Task Make_partial_fixes_a_type_without_modifiers()
    {
        var fixedSource = await FixAsync("PDSL001", """
            [ProcessSystem]
            [Pipeline(typeof(Tills), typeof(Billing))]
            static class Shopping;

            public sealed partial class Tills : ProcessApplication;
            public sealed partial class Billing : ProcessApplication;
            """);

        Assert.Contains("[Pipeline(typeof(Tills), typeof(Billing))]\nstatic partial class Shopping;", fixedSource, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Policy_signature_fix_makes_PDSL005_go_away()
    {
        var fixedSource = await FixAsync("PDSL005", """
            public sealed partial class Billing : ProcessApplication
            {
                [Policy(typeof(Opened))]
                static void On(Opened e) { }
            }

            public sealed record Opened : DomainEvent;
            """);

        Assert.Equal(Usings + """
            public sealed partial class Billing : ProcessApplication
            {
                [Policy(typeof(Opened))]
                void On(Opened e, ProcessingEvent processing) { }
            }

            public sealed record Opened : DomainEvent;
            """, fixedSource);
    }

    [Fact]
    public async Task Policy_signature_fix_takes_the_event_type_from_the_attribute()
    {
        var fixedSource = await FixAsync("PDSL005", """
            public sealed partial class Billing : ProcessApplication
            {
                [Policy(typeof(Opened))]
                bool On<T>(string text) { return true; }
            }

            public sealed record Opened : DomainEvent;
            """, expectClean: false);

        Assert.Contains("void On(Opened text, ProcessingEvent processing) { return true; }", fixedSource, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pin_topic_fixes_PDSL033_with_the_current_name()
    {
        var fixedSource = await FixAsync("PDSL033", """
            public sealed record Moved(string City) : DomainEvent;
            """, enable: "PDSL033");

        Assert.Equal(Usings + """
            [Topic("Cases.Moved")]
            public sealed record Moved(string City) : DomainEvent;
            """, fixedSource);
    }

    [Fact]
    public async Task Add_apply_fixes_PDSL034()
    {
        var fixedSource = await FixAsync("PDSL034", """
            public sealed partial class Cart : Aggregate
            {
                public sealed record Added(string Item) : DomainEvent;
                public sealed record Emptied : DomainEvent;

                public int Items { get; private set; }

                public void Add(string item) => Trigger(new Added(item));
                public void Empty() => Trigger(new Emptied());

                [Apply] void On(Added e) => Items++;
            }
            """);

        Assert.Equal(Usings + """
            public sealed partial class Cart : Aggregate
            {
                public sealed record Added(string Item) : DomainEvent;
                public sealed record Emptied : DomainEvent;

                public int Items { get; private set; }

                public void Add(string item) => Trigger(new Added(item));
                public void Empty() => Trigger(new Emptied());

                [Apply] void On(Added e) => Items++;

                [Apply]
                void When(Emptied e)
                {
                }
            }
            """, fixedSource);
    }

    /// <summary>Applies the one fix offered for the one <paramref name="id"/> diagnostic; then checks the result is clean.</summary>
    private static async Task<string> FixAsync(string id, string body, string? enable = null, bool expectClean = true)
    {
        var source = Usings + body;
        var options = new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable);
        if (enable is not null)
            options = options.WithSpecificDiagnosticOptions(new Dictionary<string, ReportDiagnostic> { [enable] = ReportDiagnostic.Warn });

        using var workspace = new AdhocWorkspace();
        var projectId = ProjectId.CreateNewId();
        var documentId = DocumentId.CreateNewId(projectId);
        var solution = workspace.CurrentSolution
            .AddProject(ProjectInfo.Create(projectId, VersionStamp.Default, "Cases", "Cases", LanguageNames.CSharp,
                compilationOptions: options, parseOptions: GeneratorRun.ParseOptions, metadataReferences: GeneratorRun.References))
            .AddDocument(documentId, "Source0.cs", source, filePath: "Source0.cs");
        Assert.True(workspace.TryApplyChanges(solution));
        var document = workspace.CurrentSolution.GetDocument(documentId)!;

        var diagnostic = Assert.Single(await DiagnosticsAsync(document), d => d.Id == id);
        var provider = new ProcessDslCodeFixProvider();
        Assert.Contains(id, provider.FixableDiagnosticIds);
        var actions = new List<CodeAction>();
        await provider.RegisterCodeFixesAsync(new CodeFixContext(document, diagnostic, (action, _) => actions.Add(action), CancellationToken.None));
        var action = Assert.Single(actions);
        foreach (var operation in await action.GetOperationsAsync(CancellationToken.None))
            operation.Apply(workspace, CancellationToken.None);

        var fixedDocument = workspace.CurrentSolution.GetDocument(documentId)!;
        var fixedSource = (await fixedDocument.GetTextAsync()).ToString().ReplaceLineEndings("\n");
        if (expectClean)
        {
            var remaining = await DiagnosticsAsync(fixedDocument);
            Assert.True(remaining.Count == 0, string.Join("\n", remaining) + "\n" + fixedSource);
            var compilation = (await fixedDocument.Project.GetCompilationAsync())!;
            var result = GeneratorRun.Run((CSharpCompilation)compilation);
            Assert.Empty(result.CompilationProblems);
        }
        return fixedSource;
    }

    /// <summary>What the generator and the analyzer report on a document's project.</summary>
    private static async Task<IReadOnlyList<Diagnostic>> DiagnosticsAsync(Document document)
    {
        var compilation = (CSharpCompilation)(await document.Project.GetCompilationAsync())!;
        var result = GeneratorRun.Run(compilation);
        var analyzed = await result.Output
            .WithAnalyzers(ImmutableArray.Create<DiagnosticAnalyzer>(new ProcessDslAnalyzer()))
            .GetAnalyzerDiagnosticsAsync();
        return [.. result.GeneratorDiagnostics, .. analyzed];
    }
}
