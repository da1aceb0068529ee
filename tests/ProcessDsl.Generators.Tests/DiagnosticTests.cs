using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using ProcessDsl.Generators.Tests.Support;

namespace ProcessDsl.Generators.Tests;

/// <summary>
/// Every diagnostic: a source that triggers it, with its id, severity and exact location (the
/// <c>[|...|]</c> span), and no other diagnostic from the generator or the compiler.
/// </summary>
public sealed class DiagnosticTests
{
    /// <summary>A small domain, in its own file, that every case may use.</summary>
    private const string Domain = """
        using System;
        using ProcessDsl;

        namespace Shop;

        public sealed partial class Order : Aggregate
        {
            public sealed record Created : DomainEvent;
            public sealed record Paid : DomainEvent;
            public abstract record Change : DomainEvent;
            public sealed record Renamed(string Name) : Change;

            public static Order Create() => Create<Order>(Guid.NewGuid(), new Created());
            public void Pay() => Trigger(new Paid());
            public void Rename(string name) => Trigger(new Renamed(name));
        }

        public sealed class Stock : Aggregate
        {
            public sealed record Counted(int Units) : DomainEvent;
        }

        public sealed partial class Orders : ProcessApplication
        {
            public Guid Place()
            {
                var order = Order.Create();
                Save(order);
                return order.Id;
            }
        }

        public sealed class Bank : Application;
        """;

    private const string Prelude = """
        using System;
        using System.Text.Json.Nodes;
        using System.Threading.Tasks;
        using ProcessDsl;
        using Shop;

        namespace Cases;

        """;

    public static TheoryData<string, string, string> Cases => new()
    {
        {
            "PDSL001", "process application not partial", """
            public sealed class [|Billing|] : ProcessApplication
            {
                [Policy(typeof(Order.Created))]
                void On(Order.Created e, ProcessingEvent processing) { }
            }
            """
        },
        {
            "PDSL001", "containing type not partial", """
            public static class [|Outer|]
            {
                public sealed partial class Billing : ProcessApplication
                {
                    [Policy(typeof(Order.Created))]
                    void On(Order.Created e, ProcessingEvent processing) { }
                }
            }
            """
        },
        {
            "PDSL001", "aggregate not partial", """
            public sealed class [|Cart|] : Aggregate
            {
                [Apply] void On(Order.Created e) { }
            }
            """
        },
        {
            "PDSL001", "system not partial", """
            public sealed partial class Billing : ProcessApplication
            {
                [Policy(typeof(Order.Created))]
                void On(Order.Created e, ProcessingEvent processing) { }
            }

            [ProcessSystem]
            [Pipeline(typeof(Orders), typeof(Billing))]
            public static class [|Shopping|];
            """
        },
        {
            "PDSL001", "subscriber class not partial", """
            public static class [|Audit|]
            {
                [SubscribeTo(typeof(Order.Created))]
                static void On(Order.Created e) { }
            }
            """
        },
        {
            "PDSL002", "policy outside a process application", """
            public sealed partial class [|Billing|] : Application
            {
                [Policy(typeof(Order.Created))]
                void On(Order.Created e, ProcessingEvent processing) { }
            }
            """
        },
        {
            "PDSL003", "apply method outside an aggregate", """
            public sealed partial class [|Cart|]
            {
                [Apply] void On(Order.Created e) { }
            }
            """
        },
        {
            "PDSL004", "system class not static", """
            public sealed partial class Billing : ProcessApplication
            {
                [Policy(typeof(Order.Created))]
                void On(Order.Created e, ProcessingEvent processing) { }
            }

            [ProcessSystem]
            [Pipeline(typeof(Orders), typeof(Billing))]
            public partial class [|Shopping|];
            """
        },
        {
            "PDSL005", "static policy", """
            public sealed partial class Billing : ProcessApplication
            {
                [Policy(typeof(Order.Created))]
                static void [|On|](Order.Created e, ProcessingEvent processing) { }
            }
            """
        },
        {
            "PDSL005", "async policy", """
            public sealed partial class Billing : ProcessApplication
            {
                [Policy(typeof(Order.Created))]
                async void [|On|](Order.Created e, ProcessingEvent processing) => await Task.Yield();
            }
            """
        },
        {
            "PDSL005", "generic policy", """
            public sealed partial class Billing : ProcessApplication
            {
                [Policy(typeof(Order.Created))]
                void [|On|]<T>(Order.Created e, ProcessingEvent processing) { }
            }
            """
        },
        {
            "PDSL005", "policy returning a value", """
            public sealed partial class Billing : ProcessApplication
            {
                [Policy(typeof(Order.Created))]
                bool [|On|](Order.Created e, ProcessingEvent processing) => true;
            }
            """
        },
        {
            "PDSL005", "policy without ProcessingEvent", """
            public sealed partial class Billing : ProcessApplication
            {
                [Policy(typeof(Order.Created))]
                void [|On|](Order.Created e) { }
            }
            """
        },
        {
            "PDSL005", "policy taking its event by ref", """
            public sealed partial class Billing : ProcessApplication
            {
                [Policy(typeof(Order.Created))]
                void [|On|](ref Order.Created e, ProcessingEvent processing) { }
            }
            """
        },
        {
            "PDSL005", "policy with a wrong second parameter", """
            public sealed partial class Billing : ProcessApplication
            {
                [Policy(typeof(Order.Created))]
                void [|On|](Order.Created e, string processing) { }
            }
            """
        },
        {
            "PDSL006", "policy for an abstract event type", """
            public sealed partial class Billing : ProcessApplication
            {
                [Policy([|typeof(Order.Change)|])]
                void On(Order.Change e, ProcessingEvent processing) { }
            }
            """
        },
        {
            "PDSL006", "policy for a type that is not an event", """
            public sealed partial class Billing : ProcessApplication
            {
                [Policy([|typeof(string)|])]
                void On(DomainEvent e, ProcessingEvent processing) { }
            }
            """
        },
        {
            "PDSL006", "subscription to an abstract event type", """
            public static partial class Audit
            {
                [SubscribeTo([|typeof(Order.Change)|])]
                static void On(Order.Change e) { }
            }
            """
        },
        {
            "PDSL007", "policy parameter not assignable from the event type", """
            public sealed partial class Billing : ProcessApplication
            {
                [Policy([|typeof(Order.Created)|])]
                void On(Order.Paid e, ProcessingEvent processing) { }
            }
            """
        },
        {
            "PDSL007", "subscriber parameter not assignable from the event type", """
            public static partial class Audit
            {
                [SubscribeTo([|typeof(Order.Created)|])]
                static void On(Order.Change e) { }
            }
            """
        },
        {
            "PDSL008", "two policies for one event type", """
            public sealed partial class Billing : ProcessApplication
            {
                [Policy(typeof(Order.Created))]
                void On(Order.Created e, ProcessingEvent processing) { }

                [Policy([|typeof(Order.Created)|])]
                void Again(DomainEvent e, ProcessingEvent processing) { }
            }
            """
        },
        {
            "PDSL009", "static apply method", """
            public sealed partial class Cart : Aggregate
            {
                [Apply] static void [|On|](Order.Created e) { }
            }
            """
        },
        {
            "PDSL009", "apply method with two parameters", """
            public sealed partial class Cart : Aggregate
            {
                [Apply] void [|On|](Order.Created e, int extra) { }
            }
            """
        },
        {
            "PDSL009", "apply method for a type that is not an event", """
            public sealed partial class Cart : Aggregate
            {
                [Apply] void [|On|](string e) { }
            }
            """
        },
        {
            "PDSL009", "apply method returning a value", """
            public sealed partial class Cart : Aggregate
            {
                [Apply] int [|On|](Order.Created e) => 1;
            }
            """
        },
        {
            "PDSL010", "two apply methods for one event type", """
            public sealed partial class Cart : Aggregate
            {
                [Apply] void On(Order.Created e) { }
                [Apply] void [|Again|](Order.Created e) { }
            }
            """
        },
        {
            "PDSL011", "two event types with one topic", """
            [Topic([|"Shop.Order.Created"|])]
            public sealed record Placed : DomainEvent;
            """
        },
        {
            "PDSL012", "generic event type", """
            public sealed record [|Wrapped|]<T>(T Value) : DomainEvent;
            """
        },
        {
            "PDSL012", "event type nested in a generic type", """
            public partial class Box<T>
            {
                public sealed record [|Opened|] : DomainEvent;
            }
            """
        },
        {
            "PDSL013", "private nested event type", """
            public partial class Host
            {
                private sealed record [|Secret|] : DomainEvent;
            }
            """
        },
        {
            "PDSL013", "event type nested in a protected type", """
            public partial class Host
            {
                protected class Inner
                {
                    public sealed record [|Hidden|] : DomainEvent;
                }
            }
            """
        },
        {
            "PDSL014", "instance subscriber", """
            public sealed partial class Audit
            {
                [SubscribeTo(typeof(Order.Created))]
                void [|On|](Order.Created e) { }
            }
            """
        },
        {
            "PDSL014", "subscriber in a generic class", """
            public static partial class Audit<T>
            {
                [SubscribeTo(typeof(Order.Created))]
                static void [|On|](Order.Created e) { }
            }
            """
        },
        {
            "PDSL014", "subscriber with two parameters", """
            public static partial class Audit
            {
                [SubscribeTo(typeof(Order.Created))]
                static void [|On|](Order.Created e, int more) { }
            }
            """
        },
        {
            "PDSL015", "pipeline of one", """
            [ProcessSystem]
            [[|Pipeline(typeof(Orders))|]]
            public static partial class Shopping;

            public static class Host
            {
                public static SystemDefinition Definition => Shopping.Definition;
            }
            """
        },
        {
            "PDSL016", "pipeline entry that is not an application", """
            [ProcessSystem]
            [Pipeline(typeof(Orders), [|typeof(string)|])]
            public static partial class Shopping;
            """
        },
        {
            "PDSL017", "follower that is not a process application", """
            [ProcessSystem]
            [Pipeline(typeof(Orders), [|typeof(Bank)|])]
            public static partial class Shopping;
            """
        },
        {
            "PDSL018", "system without pipelines", """
            [ProcessSystem]
            public static partial class [|Shopping|];
            """
        },
        {
            "PDSL019", "application without a public constructor", """
            public sealed partial class Billing : ProcessApplication
            {
                private Billing(int rate) => Rate = rate;

                public int Rate { get; }

                [Policy(typeof(Order.Created))]
                void On(Order.Created e, ProcessingEvent processing) { }
            }

            [ProcessSystem]
            [Pipeline(typeof(Orders), [|typeof(Billing)|])]
            public static partial class Shopping;

            public static class Host
            {
                // The definition the generator writes for a broken system throws, but compiles: no CS0117 beside PDSL019.
                public static SystemDefinition Definition => Shopping.Definition;
            }
            """
        },
        {
            "PDSL032", "application whose constructor takes services", """
            public sealed partial class Billing(int rate) : ProcessApplication
            {
                public int Rate => rate;

                [Policy(typeof(Order.Created))]
                void On(Order.Created e, ProcessingEvent processing) { }
            }

            [ProcessSystem]
            [Pipeline(typeof(Orders), [|typeof(Billing)|])]
            public static partial class Shopping;
            """
        },
        {
            "PDSL019", "abstract application", """
            public abstract class Billing : ProcessApplication;

            [ProcessSystem]
            [Pipeline(typeof(Orders), [|typeof(Billing)|])]
            public static partial class Shopping;
            """
        },
        {
            "PDSL020", "two applications with one name", """
            public static class Eu
            {
                public sealed class Orders : ProcessApplication;
            }

            [ProcessSystem]
            [Pipeline(typeof(Shop.Orders), [|typeof(Eu.Orders)|])]
            public static partial class Shopping;
            """
        },
        {
            "PDSL021", "policy for an event no upstream can record", """
            internal sealed partial class Tills : ProcessApplication
            {
                public void Open() => Save(Order.Create());
            }

            public sealed partial class Billing : ProcessApplication
            {
                [Policy(typeof(Order.Created))]
                void On(Order.Created e, ProcessingEvent processing) { }

                [Policy([|typeof(Stock.Counted)|])]
                void On(Stock.Counted e, ProcessingEvent processing) { }
            }

            [ProcessSystem]
            [Pipeline(typeof(Tills), typeof(Billing))]
            public static partial class Shopping;
            """
        },
        {
            "PDSL021", "policy for an event no upstream records, though the host saves into it", """
            internal sealed partial class Tills : ProcessApplication;

            public sealed partial class Billing : ProcessApplication
            {
                [Policy([|typeof(Stock.Counted)|])]
                void On(Stock.Counted e, ProcessingEvent processing) { }
            }

            internal static class Host
            {
                public static void Run(SingleThreadedRunner runner) => runner.Get<Tills>().Save(Order.Create());
            }

            [ProcessSystem]
            [Pipeline(typeof(Tills), typeof(Billing))]
            public static partial class Shopping;
            """
        },
        {
            "PDSL021", "policy of an application that follows nothing", """
            public sealed partial class Billing : ProcessApplication
            {
                [Policy([|typeof(Order.Created)|])]
                void On(Order.Created e, ProcessingEvent processing) { }
            }

            public sealed partial class Archive : ProcessApplication;

            [ProcessSystem]
            [Pipeline(typeof(Billing), typeof(Archive))]
            public static partial class Shopping;
            """
        },
        {
            "PDSL034", "an event the aggregate triggers but never applies", """
            public sealed partial class Cart : Aggregate
            {
                public sealed record Added(string Item) : DomainEvent;
                public sealed record Emptied : DomainEvent;

                public int Items { get; private set; }

                public void Add(string item) => Trigger(new Added(item));
                public void Empty() => Trigger([|new Emptied()|]);

                [Apply] void On(Added e) => Items++;
            }
            """
        },
        {
            "PDSL035", "an aggregate saved as a projection row", """
            public sealed partial class Billing : ProcessApplication
            {
                [Policy(typeof(Order.Created))]
                void On(Order.Created e, ProcessingEvent processing) => processing.Save([|Order.Create()|]);
            }
            """
        },
        {
            "PDSL036", "Save called inside a policy", """
            public sealed partial class Billing : ProcessApplication
            {
                [Policy(typeof(Order.Created))]
                void On(Order.Created e, ProcessingEvent processing) => [|Save(Order.Create())|];
            }
            """
        },
        {
            "PDSL037", "a projection row without a primary key", """
            public sealed class Line
            {
                public int Id { get; set; }
            }

            public sealed partial class Billing : ProcessApplication
            {
                [Policy(typeof(Order.Created))]
                void On(Order.Created e, ProcessingEvent processing) => processing.Delete([|new Line { Id = 1 }|]);
            }
            """
        },
        {
            "PDSL024", "aggregate that overrides ApplyEvent itself", """
            public sealed partial class Cart : Aggregate
            {
                [Apply] void On(Order.Created e) { }

                protected override void [|ApplyEvent|](DomainEvent domainEvent) { }
            }
            """
        },
        {
            "PDSL024", "process application that declares HandledTopics itself", """
            public sealed partial class Billing : ProcessApplication
            {
                public override System.Collections.Generic.IReadOnlySet<string> [|HandledTopics|] => new System.Collections.Generic.HashSet<string>();

                [Policy(typeof(Order.Created))]
                void On(Order.Created e, ProcessingEvent processing) { }
            }
            """
        },
        {
            "PDSL024", "process application that declares CreateRowTables itself while its policies use rows", """
            public sealed class Line
            {
                [LinqToDB.Mapping.PrimaryKey] public int Id { get; set; }
            }

            public sealed partial class Billing : ProcessApplication
            {
                protected override void [|CreateRowTables|]() { }

                [Policy(typeof(Order.Created))]
                void On(Order.Created e, ProcessingEvent processing) => processing.Save(new Line { Id = 1 });
            }
            """
        },
        {
            "PDSL024", "system that declares Definition itself", """
            public sealed partial class Billing : ProcessApplication
            {
                [Policy(typeof(Order.Created))]
                void On(Order.Created e, ProcessingEvent processing) { }
            }

            [ProcessSystem]
            [Pipeline(typeof(Orders), typeof(Billing))]
            public static partial class Shopping
            {
                public static SystemDefinition [|Definition|] => null!;
            }
            """
        },
        {
            "PDSL022", "empty topic", """
            [Topic([|""|])]
            public sealed record Placed : DomainEvent;
            """
        },
        {
            "PDSL025", "upcast chain with a gap", """
            [Topic("cases.moved", Version = [|3|])]
            public sealed record Moved(string To) : DomainEvent
            {
                [Upcast(From = 1)]
                static void FromV1(JsonObject state) => state["To"] = "";
            }
            """
        },
        {
            "PDSL026", "upcast step for the current version", """
            [Topic("cases.moved", Version = 2)]
            public sealed record Moved(string To) : DomainEvent
            {
                [Upcast(From = 1)]
                static void FromV1(JsonObject state) => state["To"] = "";

                [Upcast(From = [|2|])]
                static void FromV2(JsonObject state) { }
            }
            """
        },
        {
            "PDSL026", "upcast step on an event at version 1", """
            public sealed record Moved(string To) : DomainEvent
            {
                [Upcast(From = [|1|])]
                static void FromV1(JsonObject state) => state["To"] = "";
            }
            """
        },
        {
            "PDSL027", "instance upcast method", """
            [Topic("cases.moved", Version = 2)]
            public sealed record Moved(string To) : DomainEvent
            {
                [Upcast(From = 1)]
                void [|FromV1|](JsonObject state) => state["To"] = "";
            }
            """
        },
        {
            "PDSL027", "upcast method taking a string", """
            [Topic("cases.moved", Version = 2)]
            public sealed record Moved(string To) : DomainEvent
            {
                [Upcast(From = 1)]
                static void [|FromV1|](string state) { }
            }
            """
        },
        {
            "PDSL028", "version above 1 without any step", """
            [Topic("cases.moved", Version = [|2|])]
            public sealed record Moved(string To) : DomainEvent;
            """
        },
        {
            "PDSL029", "upcast method outside an event type", """
            public static class Migrations
            {
                [Upcast(From = 1)]
                static void [|FromV1|](JsonObject state) { }
            }
            """
        },
        {
            "PDSL030", "version below 1", """
            [Topic("cases.moved", Version = [|0|])]
            public sealed record Moved(string To) : DomainEvent;
            """
        },
        {
            "PDSL031", "two upcast steps for one version", """
            [Topic("cases.moved", Version = 2)]
            public sealed record Moved(string To) : DomainEvent
            {
                [Upcast(From = 1)]
                static void FromV1(JsonObject state) => state["To"] = "";

                [Upcast(From = [|1|])]
                static void Again(JsonObject state) { }
            }
            """
        },
    };

    private static readonly Dictionary<string, DiagnosticSeverity> s_severities = new()
    {
        ["PDSL021"] = DiagnosticSeverity.Warning,
        ["PDSL032"] = DiagnosticSeverity.Info,
        ["PDSL033"] = DiagnosticSeverity.Warning,
        ["PDSL034"] = DiagnosticSeverity.Warning,
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Each_mistake_is_reported_once_on_the_offending_syntax(string id, string mistake, string markup)
    {
        var (source, span) = Markup.Parse(Prelude + markup);
        var result = GeneratorRun.Run(source, Domain);

        var diagnostic = Assert.Single(result.ProcessDslDiagnostics);
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(s_severities.GetValueOrDefault(id, DiagnosticSeverity.Error), diagnostic.Severity);
        Assert.True(diagnostic.Location.IsInSource, mistake);
        Assert.Equal("Source0.cs", diagnostic.Location.SourceTree!.FilePath);
        Assert.Equal(span, diagnostic.Location.SourceSpan);
        Assert.Equal(LineSpan(source, span), diagnostic.Location.GetLineSpan().Span);
        Assert.Equal($"https://github.com/processdsl/processdsl/blob/main/docs/diagnostics.md#{id.ToLowerInvariant()}", diagnostic.Descriptor.HelpLinkUri);
        // No compiler error or warning beside it: the generator emitted nothing broken for the rest.
        Assert.Empty(result.CompilationProblems);
    }

    [Fact]
    public void Every_descriptor_has_a_case_and_a_documented_section()
    {
        var ids = typeof(ProcessDslGenerator).Assembly
            .GetType("ProcessDsl.Generators.Diagnostics.DiagnosticDescriptors", throwOnError: true)!
            .GetFields(System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.Public)
            .Select(f => ((DiagnosticDescriptor)f.GetValue(null)!).Id)
            .ToArray();
        var covered = Cases.Select(c => (string)c[0]).Append("PDSL023").Append("PDSL033").ToHashSet(); // 023: the crash tests; 033: the opt-in test
        var docs = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "diagnostics.md"));

        Assert.Equal(ids.Length, ids.Distinct().Count());
        Assert.All(ids, id => Assert.Contains(id, covered));
        Assert.All(ids, id => Assert.Contains($"## {id}", docs, StringComparison.Ordinal));
        var unshipped = File.ReadAllText(Path.Combine(RepositoryRoot(), "generators", "ProcessDsl.Generators", "AnalyzerReleases.Unshipped.md"));
        Assert.All(ids, id => Assert.Contains(id + " |", unshipped, StringComparison.Ordinal));
    }

    [Fact]
    public void A_crash_inside_the_generator_becomes_a_diagnostic_with_the_stack_trace()
    {
        var generator = new ProcessDslGenerator(stage =>
        {
            if (stage == "emitting a dispatch table") throw new InvalidOperationException("boom");
        });

        var result = GeneratorRun.Run(GeneratorRun.Compilation(Sources.Orders()), generator);

        var diagnostics = result.GeneratorDiagnostics.Where(d => d.Id == "PDSL023").ToList();
        Assert.Equal(4, diagnostics.Count); // one per process application; everything else was still generated
        Assert.All(diagnostics, d => Assert.Equal(DiagnosticSeverity.Error, d.Severity));
        Assert.Contains("boom", diagnostics[0].GetMessage(), StringComparison.Ordinal);
        Assert.Contains("ProcessDslGenerator", diagnostics[0].GetMessage(), StringComparison.Ordinal);
        Assert.Contains("Shop.Order.Apply.g.cs", result.Sources.Keys);
    }

    [Fact]
    public void A_crash_while_parsing_becomes_a_diagnostic_too()
    {
        var generator = new ProcessDslGenerator(stage =>
        {
            if (stage == "parsing an [Apply] method") throw new InvalidOperationException("parse boom");
        });

        var result = GeneratorRun.Run(GeneratorRun.Compilation(Sources.Orders()), generator);

        var diagnostic = Assert.Single(result.GeneratorDiagnostics.Where(d => d.Id == "PDSL023").Distinct());
        Assert.Contains("parse boom", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.DoesNotContain("Shop.Order.Apply.g.cs", result.Sources.Keys);
    }

    public static TheoryData<string, string> ValidSources => new()
    {
        { "the orders system", Sources.Orders("Valid") },
        {
            "policy taking a base type of several events", """
            using ProcessDsl;
            namespace Cases;
            public sealed partial class Billing : ProcessApplication
            {
                [Policy(typeof(Shop.Order.Created))]
                [Policy(typeof(Shop.Order.Renamed))]
                void On(DomainEvent e, ProcessingEvent processing) { }
            }
            [ProcessSystem]
            [Pipeline(typeof(Shop.Orders), typeof(Billing))]
            public static partial class Shopping;
            """
        },
        {
            "an upstream that hands its ProcessingEvent elsewhere may record anything", """
            using ProcessDsl;
            namespace Cases;
            public sealed partial class Relay : ProcessApplication
            {
                [Policy(typeof(Shop.Order.Created))]
                void On(Shop.Order.Created e, ProcessingEvent processing) => Helper.Record(processing);
            }
            public static class Helper { public static void Record(ProcessingEvent processing) { } }
            public sealed partial class Counter : ProcessApplication
            {
                [Policy(typeof(Shop.Stock.Counted))]
                void On(Shop.Stock.Counted e, ProcessingEvent processing) { }
            }
            [ProcessSystem]
            [Pipeline(typeof(Shop.Orders), typeof(Relay), typeof(Counter))]
            public static partial class Shopping;
            """
        },
        {
            "a public upstream and a public event: another assembly may save into it", """
            using ProcessDsl;
            namespace Cases;
            public sealed partial class Billing : ProcessApplication
            {
                [Policy(typeof(Shop.Stock.Counted))]
                void On(Shop.Stock.Counted e, ProcessingEvent processing) { }
            }
            [ProcessSystem]
            [Pipeline(typeof(Shop.Orders), typeof(Billing))]
            public static partial class Shopping;
            """
        },
        {
            "an internal upstream the host saves an aggregate into that triggers the event", """
            using System;
            using ProcessDsl;
            namespace Cases;
            internal sealed partial class Tills : ProcessApplication;
            public sealed class Shelf : Aggregate
            {
                public static Shelf Count(int units) => Create<Shelf>(Guid.NewGuid(), new Shop.Stock.Counted(units));
            }
            public sealed partial class Billing : ProcessApplication
            {
                [Policy(typeof(Shop.Stock.Counted))]
                void On(Shop.Stock.Counted e, ProcessingEvent processing) { }
            }
            internal static class Host
            {
                public static void Run(SingleThreadedRunner runner) => runner.Get<Tills>().Save(Shelf.Count(3));
            }
            [ProcessSystem]
            [Pipeline(typeof(Tills), typeof(Billing))]
            public static partial class Shopping;
            """
        },
        {
            "projection rows with a key, aggregates collected, events applied", """
            using System;
            using LinqToDB.Mapping;
            using ProcessDsl;
            namespace Cases;
            public sealed class Line { [PrimaryKey] public int Id { get; set; } }
            public sealed class Keyed { [Column(IsPrimaryKey = true)] public int Id { get; set; } }
            public sealed partial class Cart : Aggregate
            {
                public sealed record Opened : DomainEvent;
                public sealed record Added(string Item) : DomainEvent;
                public int Items { get; private set; }
                public static Cart Open() => Create<Cart>(Guid.NewGuid(), new Opened());
                public void Add(string item) => Trigger(new Added(item));
                [Apply] void On(Added e) => Items++;
            }
            public sealed partial class Billing : ProcessApplication
            {
                [Policy(typeof(Shop.Order.Created))]
                void On(Shop.Order.Created e, ProcessingEvent processing)
                {
                    processing.Save(new Line { Id = 1 });
                    processing.Delete(new Keyed { Id = 1 });
                    processing.Collect(Cart.Open());
                }
            }
            """
        },
        {
            "apply methods of a nested aggregate with a base event type", """
            using ProcessDsl;
            namespace Cases;
            public static partial class Module
            {
                public sealed partial class Cart : Aggregate
                {
                    public sealed record Added(string Item) : DomainEvent;
                    [Apply] void On(Added e) { }
                    [Apply] void On(Shop.Order.Change e) { }
                    [Apply] void On(Shop.Order.Renamed e) { }
                }
            }
            """
        },
        {
            "abstract events and events with a topic", """
            using ProcessDsl;
            namespace Cases;
            public abstract record Base : DomainEvent;
            [Topic("cases.placed.v1")]
            public sealed record Placed : Base;
            internal sealed record Internal : DomainEvent;
            public partial class Host { protected internal sealed record Shared : DomainEvent; }
            """
        },
    };

    [Fact]
    public void An_event_without_a_pinned_topic_is_reported_only_where_the_rule_is_enabled()
    {
        var (source, span) = Markup.Parse(Prelude + """
            public sealed record [|Moved|](string City) : DomainEvent;

            [Topic("cases.pinned")]
            public sealed record Pinned : DomainEvent;
            """);

        var byDefault = GeneratorRun.Run(source);
        Assert.Empty(byDefault.ProcessDslDiagnostics);

        // What `dotnet_diagnostic.PDSL033.severity = warning` in .editorconfig does.
        var compilation = GeneratorRun.Compilation(source);
        var enabled = GeneratorRun.Run(compilation.WithOptions(compilation.Options.WithSpecificDiagnosticOptions(
            new Dictionary<string, ReportDiagnostic> { ["PDSL033"] = ReportDiagnostic.Warn })));
        var diagnostic = Assert.Single(enabled.ProcessDslDiagnostics);
        Assert.Equal("PDSL033", diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Warning, diagnostic.Severity);
        Assert.Equal(span, diagnostic.Location.SourceSpan);
        Assert.Contains("[Topic(\"Cases.Moved\")]", diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(ValidSources))]
    public void Valid_sources_produce_no_diagnostics(string name, string source)
    {
        var result = GeneratorRun.Run(source, Domain);

        Assert.True(result.ProcessDslDiagnostics.Count == 0, name + ": " + string.Join("\n", result.ProcessDslDiagnostics));
        Assert.Empty(result.CompilationProblems);
    }

    private static LinePositionSpan LineSpan(string source, TextSpan span) => SourceText.From(source).Lines.GetLinePositionSpan(span);

    internal static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "ProcessDsl.sln"))) directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException("Repository root not found.");
    }
}
