using ProcessDsl.Generators.Tests.Support;

namespace ProcessDsl.Generators.Tests;

/// <summary>Generated source for representative inputs, compared with the checked-in files under Snapshots/.</summary>
public sealed class SnapshotTests
{
    [Fact]
    public void Orders_system_generates_the_expected_sources()
    {
        var result = GeneratorRun.Run(Sources.Orders());

        Assert.Empty(result.GeneratorDiagnostics);
        Assert.Empty(result.CompilationProblems);
        Snapshot.Match("Orders", result.Sources);
    }

    [Fact]
    public void Nested_generic_and_global_namespace_declarations_generate_the_expected_sources()
    {
        var result = GeneratorRun.Run("""
            using ProcessDsl;

            public sealed partial class Counter : Aggregate
            {
                public sealed record Incremented : DomainEvent;
                public int Count { get; private set; }
                [Apply] void @On(Incremented e) => Count++;
            }

            namespace Outer.Inner
            {
                public static partial class Module
                {
                    public partial record Holder
                    {
                        public sealed partial class Ledger<TNote> : Aggregate
                        {
                            [Apply] void On(global::Counter.Incremented e) { }
                        }

                        internal sealed partial class Listener : ProcessApplication
                        {
                            [Policy(typeof(global::Counter.Incremented))]
                            void @event(global::Counter.Incremented e, ProcessingEvent processing) { }
                        }
                    }
                }
            }
            """);

        Assert.Empty(result.GeneratorDiagnostics);
        Assert.Empty(result.CompilationProblems);
        Snapshot.Match("Nested", result.Sources);
    }
}
