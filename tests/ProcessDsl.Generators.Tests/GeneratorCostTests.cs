using System.Diagnostics;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;
using ProcessDsl.Generators.Tests.Support;
using Xunit.Abstractions;

namespace ProcessDsl.Generators.Tests;

/// <summary>
/// What the generator costs on a synthetic project of 500 policies: one full run, and a run after a
/// one-line body edit. Prints the figures (run with <c>--logger "console;verbosity=detailed"</c>);
/// asserts only what was generated, never wall-clock times.
/// </summary>
public sealed class GeneratorCostTests(ITestOutputHelper output)
{
    private const int Applications = 50;
    private const int PoliciesPerApplication = 10;

    [Fact]
    public void Generator_cost_on_500_policies_full_run_and_after_a_body_edit()
    {
        var compilation = GeneratorRun.Compilation(SyntheticProject());
        Assert.Empty(compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));

        // Cold: the first run in this process, JIT included.
        var cold = Stopwatch.StartNew();
        var driver = GeneratorRun.Driver().RunGenerators(compilation);
        cold.Stop();
        var result = driver.GetRunResult().Results.Single();
        Assert.Empty(result.Diagnostics);
        // 50 applications + 50 aggregates + the system + the topic registry.
        Assert.Equal(Applications * 2 + 2, result.GeneratedSources.Length);

        // Warm full runs: a fresh driver each time, as after opening the project.
        var full = Measure(5, () => GeneratorRun.Driver().RunGenerators(compilation));

        // One-line body edit, rerun on the driver that has seen the previous compilation.
        var tree = compilation.SyntaxTrees.First();
        var text = tree.GetText();
        var line = text.Lines.First(l => l.ToString().Contains("Counter++;", StringComparison.Ordinal));
        var edited = compilation.ReplaceSyntaxTree(tree, tree.WithChangedText(text.WithChanges(new TextChange(line.Span, "        Counter += 2;"))));
        var incremental = Measure(5, () =>
        {
            var d = GeneratorRun.Driver().RunGenerators(compilation);
            var watch = Stopwatch.StartNew();
            d = d.RunGenerators(edited);
            watch.Stop();
            Assert.Empty(d.GetRunResult().Results.Single().Diagnostics);
            return watch.Elapsed;
        });

        output.WriteLine($"Synthetic project: {Applications} process applications x {PoliciesPerApplication} policies = {Applications * PoliciesPerApplication} policies, {Applications} aggregates, {Applications * PoliciesPerApplication} event types, 1 system.");
        output.WriteLine($"Full run, cold (first in process, JIT included): {cold.Elapsed.TotalMilliseconds:F0} ms");
        output.WriteLine($"Full run, warm (fresh driver), median of 5: {full.TotalMilliseconds:F0} ms");
        output.WriteLine($"Run after a one-line body edit, median of 5: {incremental.TotalMilliseconds:F0} ms");
    }

    private static TimeSpan Measure(int times, Action run) => Measure(times, () =>
    {
        var watch = Stopwatch.StartNew();
        run();
        watch.Stop();
        return watch.Elapsed;
    });

    private static TimeSpan Measure(int times, Func<TimeSpan> run)
    {
        var samples = Enumerable.Range(0, times).Select(_ => run()).Order().ToList();
        return samples[samples.Count / 2];
    }

    /// <summary>One file per application: its aggregate with ten events and apply methods, and the application with ten policies.</summary>
    private static (string Path, string Text)[] SyntheticProject()
    {
        var files = new List<(string, string)>();
        for (var a = 0; a < Applications; a++)
        {
            var source = new StringBuilder();
            source.AppendLine("using System;");
            source.AppendLine("using ProcessDsl;");
            source.AppendLine("namespace Synthetic;");
            source.AppendLine($"public sealed partial class Thing{a} : Aggregate");
            source.AppendLine("{");
            source.AppendLine("    public int Counter { get; private set; }");
            for (var e = 0; e < PoliciesPerApplication; e++)
            {
                source.AppendLine($"    public sealed record Happened{e}(int Value) : DomainEvent;");
                source.AppendLine($"    public void Do{e}() => Trigger(new Happened{e}({e}));");
                source.AppendLine($"    [Apply] void When(Happened{e} e)");
                source.AppendLine("    {");
                source.AppendLine("        Counter++;");
                source.AppendLine("    }");
            }
            source.AppendLine("}");
            source.AppendLine($"public sealed partial class App{a} : ProcessApplication");
            source.AppendLine("{");
            // Each application reacts to the previous application's aggregate events.
            var upstream = (a + Applications - 1) % Applications;
            for (var e = 0; e < PoliciesPerApplication; e++)
            {
                source.AppendLine($"    [Policy(typeof(Thing{upstream}.Happened{e}))]");
                source.AppendLine($"    void On{e}(Thing{upstream}.Happened{e} e, ProcessingEvent processing)");
                source.AppendLine("    {");
                source.AppendLine($"        var thing = Repository.Get<Thing{a}>(e.OriginatorId);");
                source.AppendLine($"        thing.Do{e}();");
                source.AppendLine("        processing.Collect(thing);");
                source.AppendLine("    }");
            }
            source.AppendLine("}");
            files.Add(($"Thing{a}.cs", source.ToString()));
        }
        var system = new StringBuilder("using ProcessDsl;\nnamespace Synthetic;\n[ProcessSystem]\n");
        system.Append("[Pipeline(");
        system.Append(string.Join(", ", Enumerable.Range(0, Applications).Append(0).Select(a => $"typeof(App{a})")));
        system.AppendLine(")]");
        system.AppendLine("public static partial class SyntheticSystem;");
        files.Add(("SyntheticSystem.cs", system.ToString()));
        return files.ToArray();
    }
}
