using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using ProcessDsl.Generators.Tests.Support;

namespace ProcessDsl.Generators.Tests;

/// <summary>
/// The generator's models survive edits that do not change their meaning: the named model steps
/// stay Cached/Unchanged, so no source is regenerated; an attribute change makes them Modified.
/// </summary>
public sealed class IncrementalTests
{
    private static readonly string[] ModelSteps =
    [
        TrackingNames.Applications,
        TrackingNames.Aggregates,
        TrackingNames.Subscribers,
        TrackingNames.EventTypes,
        TrackingNames.Systems,
    ];

    [Fact]
    public void Running_again_on_the_same_compilation_caches_everything()
    {
        var (driver, compilation) = Start();

        var result = driver.RunGenerators(compilation).GetRunResult().Results.Single();

        AssertSteps(result, IncrementalStepRunReason.Cached);
    }

    [Fact]
    public void Editing_a_method_body_leaves_the_models_unchanged()
    {
        // The body is above every policy and apply method, so their text positions all move.
        var result = Edit(source => source.Replace(
            "Save(order);\n        return order.Id;",
            "Save(order);\n        Console.WriteLine(order.Id);\n        return order.Id;",
            StringComparison.Ordinal));

        // The per-method parse results carry diagnostic locations, which moved...
        Assert.Contains(IncrementalStepRunReason.Modified, Reasons(result, TrackingNames.PolicyMethods));
        // ...but the models that source is generated from did not change.
        AssertSteps(result, IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged);
    }

    [Fact]
    public void Adding_an_unrelated_type_leaves_the_models_unchanged()
    {
        var (driver, compilation) = Start();
        var added = compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText(
            "namespace Shop; public sealed class Unrelated : System.Exception { public int Value { get; set; } }",
            GeneratorRun.ParseOptions,
            path: "Unrelated.cs"));

        var result = driver.RunGenerators(added).GetRunResult().Results.Single();

        AssertSteps(result, IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged);
    }

    [Fact]
    public void Adding_a_comment_leaves_the_models_unchanged()
    {
        var result = Edit(source => "// The shop's domain and applications.\n" + source);

        AssertSteps(result, IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged);
    }

    [Fact]
    public void Changing_a_policy_attribute_argument_modifies_the_application_and_the_system()
    {
        var result = Edit(source => source.Replace(
            "[Policy(typeof(Order.Reserved))]",
            "[Policy(typeof(Order.Paid))]",
            StringComparison.Ordinal));

        Assert.Contains(IncrementalStepRunReason.Modified, Reasons(result, TrackingNames.Applications));
        Assert.Contains(IncrementalStepRunReason.Modified, Reasons(result, TrackingNames.Systems));
        // Aggregates and event types did not change meaning.
        Assert.All(Reasons(result, TrackingNames.Aggregates), r => Assert.Contains(r, new[] { IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged }));
        Assert.All(Reasons(result, TrackingNames.EventTypes), r => Assert.Contains(r, new[] { IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged }));
    }

    [Fact]
    public void Changing_a_topic_modifies_the_event_types_and_the_dispatch_tables()
    {
        var result = Edit(source => source.Replace(
            "[Topic(\"shop.order.cancelled\")]",
            "[Topic(\"shop.order.cancelled.v2\")]",
            StringComparison.Ordinal));

        Assert.Contains(IncrementalStepRunReason.Modified, Reasons(result, TrackingNames.EventTypes));
    }

    [Fact]
    public void Raising_an_event_version_modifies_the_event_types_only()
    {
        var result = Edit(source => source.Replace(
            "[Topic(\"shop.order.cancelled\")]\n    public sealed record Cancelled(string Reason) : DomainEvent;",
            "[Topic(\"shop.order.cancelled\", Version = 2)]\n    public sealed record Cancelled(string Reason) : DomainEvent\n    {\n        [Upcast(From = 1)] static void FromV1(System.Text.Json.Nodes.JsonObject state) => state[\"Reason\"] = \"\";\n    }",
            StringComparison.Ordinal));

        Assert.Contains(IncrementalStepRunReason.Modified, Reasons(result, TrackingNames.EventTypes));
        Assert.All(Reasons(result, TrackingNames.Applications), r => Assert.Contains(r, new[] { IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged }));
        Assert.All(Reasons(result, TrackingNames.Systems), r => Assert.Contains(r, new[] { IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged }));
    }

    private static (GeneratorDriver Driver, CSharpCompilation Compilation) Start()
    {
        var compilation = GeneratorRun.Compilation(("Shop.cs", Sources.Orders()));
        var driver = GeneratorRun.Driver(trackSteps: true).RunGenerators(compilation);
        var first = driver.GetRunResult().Results.Single();
        Assert.Null(first.Exception);
        Assert.Empty(first.Diagnostics);
        Assert.All(ModelSteps, step => Assert.True(first.TrackedSteps.ContainsKey(step), $"step {step} was not tracked"));
        return (driver, compilation);
    }

    private static GeneratorRunResult Edit(Func<string, string> edit)
    {
        var (driver, compilation) = Start();
        var tree = compilation.SyntaxTrees.Single();
        var before = tree.ToString();
        var after = edit(before);
        Assert.NotEqual(before, after);
        var edited = compilation.ReplaceSyntaxTree(tree, tree.WithChangedText(Microsoft.CodeAnalysis.Text.SourceText.From(after)));
        var result = driver.RunGenerators(edited).GetRunResult().Results.Single();
        Assert.Null(result.Exception);
        return result;
    }

    private static void AssertSteps(GeneratorRunResult result, params IncrementalStepRunReason[] allowed)
    {
        foreach (var step in ModelSteps)
        {
            var reasons = Reasons(result, step);
            Assert.NotEmpty(reasons);
            Assert.All(reasons, r => Assert.True(allowed.Contains(r), $"step {step} output was {r}"));
        }
    }

    private static IReadOnlyList<IncrementalStepRunReason> Reasons(GeneratorRunResult result, string step) =>
        result.TrackedSteps[step].SelectMany(s => s.Outputs).Select(o => o.Reason).ToList();
}
