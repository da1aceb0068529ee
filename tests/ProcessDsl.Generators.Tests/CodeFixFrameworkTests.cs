using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;
using ProcessDsl.Generators.Analyzers;
using ProcessDsl.Generators.CodeFixes;
using ProcessDsl.Generators.Tests.Support;

namespace ProcessDsl.Generators.Tests;

/// <summary>
/// The analyzer-reported fixes once more through Microsoft.CodeAnalysis.CSharp.CodeFix.Testing:
/// the diagnostic at its markup span, the fixed text, and no diagnostic left in the fixed code.
/// </summary>
public sealed class CodeFixFrameworkTests
{
    private const string Usings = """
        using System;
        using ProcessDsl;

        namespace Cases;

        """;

    [Fact]
    public async Task Add_apply_stub_through_the_code_fix_test_framework()
    {
        var test = NewTest(
            Usings + """
            public sealed partial class Cart : Aggregate
            {
                public sealed record Added(string Item) : DomainEvent;
                public sealed record Emptied : DomainEvent;

                public void Add(string item) => Trigger(new Added(item));
                public void Empty() => Trigger({|PDSL034:new Emptied()|});

                [Apply] void On(Added e) { }
            }
            """,
            Usings + """
            public sealed partial class Cart : Aggregate
            {
                public sealed record Added(string Item) : DomainEvent;
                public sealed record Emptied : DomainEvent;

                public void Add(string item) => Trigger(new Added(item));
                public void Empty() => Trigger(new Emptied());

                [Apply] void On(Added e) { }

                [Apply]
                void When(Emptied e)
                {
                }
            }
            """);
        test.DisabledDiagnostics.Add("PDSL033"); // off by default; the framework would turn it on

        await test.RunAsync();
    }

    [Fact]
    public async Task Pin_topic_through_the_code_fix_test_framework()
    {
        var test = NewTest(
            Usings + """
            public sealed record {|PDSL033:Moved|}(string City) : DomainEvent;
            """,
            Usings + """
            [Topic("Cases.Moved")]
            public sealed record Moved(string City) : DomainEvent;
            """);
        test.TestState.AnalyzerConfigFiles.Add(("/.editorconfig", "root = true\n[*]\ndotnet_diagnostic.PDSL033.severity = warning\n"));
        test.FixedState.AnalyzerConfigFiles.Add(("/.editorconfig", "root = true\n[*]\ndotnet_diagnostic.PDSL033.severity = warning\n"));

        await test.RunAsync();
    }

    private static CSharpCodeFixTest<ProcessDslAnalyzer, ProcessDslCodeFixProvider, DefaultVerifier> NewTest(string source, string fixedSource)
    {
        var test = new CSharpCodeFixTest<ProcessDslAnalyzer, ProcessDslCodeFixProvider, DefaultVerifier>
        {
            TestCode = source,
            FixedCode = fixedSource,
            // No download of reference packs: the same .NET 10 reference assemblies as every other generator test.
            ReferenceAssemblies = new ReferenceAssemblies("net10.0"),
            // The generator is not part of this framework's run, so its outputs (apply tables) are not there to compile against.
            CompilerDiagnostics = CompilerDiagnostics.None,
        };
        test.TestState.AdditionalReferences.AddRange(GeneratorRun.References);
        return test;
    }
}
