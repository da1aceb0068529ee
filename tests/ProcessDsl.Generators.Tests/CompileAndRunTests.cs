using System.Reflection;
using System.Runtime.Loader;
using ProcessDsl.Generators.Tests.Support;

namespace ProcessDsl.Generators.Tests;

/// <summary>User code plus generated code, compiled, emitted, loaded and run against the real runtime.</summary>
public sealed class CompileAndRunTests
{
    private const string Scenario = """
        namespace {0}
        {
            public static class Scenario
            {
                public static string RunSystem()
                {
                    using var persistence = ProcessDsl.Persistence.InMemory();
                    var runner = new ProcessDsl.SingleThreadedRunner(OrdersSystem.Definition, persistence);
                    try
                    {
                        runner.StartAsync().GetAwaiter().GetResult();
                        var orders = runner.Get<Orders>();
                        var id = orders.CreateNewOrder("book");
                        var order = orders.GetOrder(id);
                        var summaries = runner.Get<Summaries>();
                        return string.Join("|",
                            order.Item,
                            order.ReservationId is not null,
                            order.PaymentId is not null,
                            order.Version,
                            order.Changes,
                            string.Join(",", summaries.Seen),
                            string.Join(",", Audit.Seen));
                    }
                    finally
                    {
                        runner.DisposeAsync().AsTask().GetAwaiter().GetResult();
                    }
                }

                public static string ApplyDirectly()
                {
                    var order = Order.Create("pen");
                    order.SetReserved(System.Guid.NewGuid());
                    order.Cancel("changed my mind");
                    return $"{order.Item}|{order.ReservationId is not null}|{order.PaymentId is null}|{order.Changes}";
                }
            }
        }
        """;

    [Fact]
    public void Orders_system_runs_end_to_end_through_generated_tables()
    {
        using var loaded = Load(out var ns);

        var outcome = (string)loaded.Invoke(ns + ".Scenario", "RunSystem")!;

        // Created, Reserved, Paid: each applied by its own [Apply] method (none reached the DomainEvent one);
        // Summaries' one policy method took both event types; the subscriber saw Created and Paid.
        Assert.Equal("book|True|True|3|0|Created,Paid|Created,Paid", outcome);
    }

    [Fact]
    public void Apply_table_applies_the_most_derived_method_and_the_base_one_for_the_rest()
    {
        using var loaded = Load(out var ns);

        Assert.Equal("pen|True|True|1", (string)loaded.Invoke(ns + ".Scenario", "ApplyDirectly")!);
    }

    [Fact]
    public void Topics_are_registered_by_the_module_initializer()
    {
        using var loaded = Load(out var ns);
        var created = loaded.Assembly.GetType(ns + ".Order+Created", throwOnError: true)!;
        var cancelled = loaded.Assembly.GetType(ns + ".Order+Cancelled", throwOnError: true)!;

        System.Runtime.CompilerServices.RuntimeHelpers.RunModuleConstructor(loaded.Assembly.ManifestModule.ModuleHandle);

        Assert.Equal(ns + ".Order.Created", EventTopics.TopicOf(created));
        Assert.Equal("shop.order.cancelled." + ns, EventTopics.TopicOf(cancelled));
    }

    [Fact]
    public void Dispatch_matches_the_topic_before_deserialising_and_skips_unhandled_topics()
    {
        using var loaded = Load(out var ns);
        var payments = (ProcessApplication)Activator.CreateInstance(loaded.Assembly.GetType(ns + ".Payments", throwOnError: true)!)!;
        var dispatch = typeof(ProcessApplication).GetMethod("DispatchPolicy", BindingFlags.Instance | BindingFlags.NonPublic)!;
        var garbage = "not json"u8.ToArray();

        Assert.Equal(new[] { ns + ".Order.Reserved" }, payments.HandledTopics.ToArray());
        // An unhandled topic with an unreadable state is skipped: it was never deserialised.
        Assert.False((bool)dispatch.Invoke(payments, [new Notification(1, Guid.NewGuid(), 1, ns + ".Order.Created", garbage), null])!);
        // A handled topic is deserialised (and here fails, because the state is not JSON).
        var error = Assert.Throws<TargetInvocationException>(() =>
            dispatch.Invoke(payments, [new Notification(2, Guid.NewGuid(), 2, ns + ".Order.Reserved", garbage), null]));
        Assert.IsType<EventDeserializationException>(error.InnerException);
    }

    [Fact]
    public void System_definition_lists_applications_once_with_every_upstream_once()
    {
        using var loaded = Load(out var ns);
        var system = (SystemDefinition)loaded.Assembly.GetType(ns + ".OrdersSystem", throwOnError: true)!
            .GetProperty("Definition")!.GetValue(null)!;

        Assert.Equal("OrdersSystem", system.Name);
        Assert.Equal(new[] { "Orders", "Reservations", "Payments", "Summaries" }, system.Applications.Select(a => a.Name));
        Assert.Equal(new[] { "Reservations", "Payments" }, system["Orders"].Upstreams);
        Assert.Equal(new[] { "Orders" }, system["Reservations"].Upstreams);
        Assert.Equal(new[] { "Orders" }, system["Summaries"].Upstreams);
        Assert.Equal(new[] { ns + ".Order.Created", ns + ".Order.Paid" }, system["Summaries"].Topics);
        Assert.Equal(new[] { ns + ".Payment.Created", ns + ".Reservation.Created" }, system["Orders"].Topics);
        Assert.IsType(loaded.Assembly.GetType(ns + ".Payments")!, system["Payments"].Factory!());
    }

    /// <summary>Compiles the Orders sources in a namespace of their own (topics are process-wide) and loads them.</summary>
    [Fact]
    public void An_application_with_constructor_parameters_gets_no_factory_and_the_others_keep_theirs()
    {
        var ns = "Run" + Guid.NewGuid().ToString("N");
        var result = GeneratorRun.Run($$"""
            using ProcessDsl;
            namespace {{ns}};
            public sealed partial class Orders : Application;
            public sealed partial class Billing(string currency) : ProcessApplication
            {
                public string Currency => currency;
            }
            [ProcessSystem]
            [Pipeline(typeof(Orders), typeof(Billing))]
            public static partial class Shopping;
            """);
        Assert.Equal("PDSL032", Assert.Single(result.GeneratorDiagnostics).Id);
        using var loaded = Emit(result);

        var system = (SystemDefinition)loaded.Assembly.GetType(ns + ".Shopping", throwOnError: true)!.GetProperty("Definition")!.GetValue(null)!;

        Assert.Null(system["Billing"].Factory);
        Assert.IsType(loaded.Assembly.GetType(ns + ".Orders")!, system["Orders"].Factory!());
        Assert.Equal(["Orders"], system["Billing"].Upstreams);
    }

    [Fact]
    public async Task The_tables_of_the_rows_policies_save_delete_or_query_exist_once_the_runner_has_started()
    {
        var ns = "Run" + Guid.NewGuid().ToString("N");
        var result = GeneratorRun.Run($$"""
            using System.Linq;
            using LinqToDB.Mapping;
            using ProcessDsl;
            namespace {{ns}};

            public sealed partial class Item : Aggregate
            {
                public sealed record Added(string Name) : DomainEvent;
                public static Item Add(string name) => Create<Item>(System.Guid.NewGuid(), new Added(name));
                [Apply] void On(Added e) { }
            }

            public sealed partial class Catalogue : Application
            {
                public void Add(string name) => Save(Item.Add(name));
            }

            [Table("name_row")]
            public sealed class NameRow { [PrimaryKey] public System.Guid Id { get; set; } [Column] public string Name { get; set; } = ""; }

            [Table("count_row")]
            public sealed class CountRow { [PrimaryKey] public int Id { get; set; } [Column] public int Count { get; set; } }

            [Table("gone_row")]
            public sealed class GoneRow { [PrimaryKey] public int Id { get; set; } }

            [Table("local_row")]
            file sealed class LocalRow { [PrimaryKey] public int Id { get; set; } }

            public sealed partial class Index : ProcessApplication
            {
                [Policy(typeof(Item.Added))]
                void On(Item.Added e, ProcessingEvent processing)
                {
                    var count = Query<CountRow>().Select(c => c.Count).FirstOrDefault();
                    processing.Save(new NameRow { Id = e.OriginatorId, Name = e.Name });
                    processing.Save(new CountRow { Id = 1, Count = count + 1 });
                    processing.Delete(new GoneRow { Id = count });
                    if (e.Name == "never") processing.Save<object>(e); // not a row type: no table
                    if (e.Name == "never") processing.Save(new LocalRow()); // a file type the generated code cannot name: created on first use
                }
            }

            [ProcessSystem]
            [Pipeline(typeof(Catalogue), typeof(Index))]
            public static partial class Indexing;
            """);
        Assert.Empty(result.GeneratorDiagnostics);
        var generated = result.Sources.Single(s => s.Key.EndsWith(".Index.Policies.g.cs", StringComparison.Ordinal)).Value;
        var created = System.Text.RegularExpressions.Regex.Matches(generated, @"CreateRowTable<([^>]+)>\(\)").Select(m => m.Groups[1].Value);
        Assert.Equal([$"global::{ns}.CountRow", $"global::{ns}.NameRow", $"global::{ns}.GoneRow"], created);
        using var loaded = Emit(result);
        var system = (SystemDefinition)loaded.Assembly.GetType(ns + ".Indexing", throwOnError: true)!.GetProperty("Definition")!.GetValue(null)!;
        var directory = Directory.CreateTempSubdirectory("processdsl-rowtables-");
        try
        {
            using (var store = Persistence.Sqlite(directory.FullName))
            {
                await using var runner = new SingleThreadedRunner(system, store);
                await runner.StartAsync();
                // No event yet: the tables exist because the runner created them when it started.
                Assert.Equal(["count_row", "gone_row", "name_row"], Tables(Path.Combine(directory.FullName, "index.db")).Where(t => t.EndsWith("_row", StringComparison.Ordinal)));
                await runner.StopAsync();
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            directory.Delete(recursive: true);
        }

        static string[] Tables(string file)
        {
            using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={file};Mode=ReadOnly;Pooling=False");
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name";
            using var reader = command.ExecuteReader();
            var names = new List<string>();
            while (reader.Read()) names.Add(reader.GetString(0));
            return [.. names];
        }
    }

    private static LoadedAssembly Load(out string ns)
    {
        ns = "Run" + Guid.NewGuid().ToString("N");
        var source = Sources.Orders(ns).Replace("\"shop.order.cancelled\"", $"\"shop.order.cancelled.{ns}\"", StringComparison.Ordinal);
        var result = GeneratorRun.Run(source, Scenario.Replace("{0}", ns, StringComparison.Ordinal));
        Assert.Empty(result.GeneratorDiagnostics);

        return Emit(result);
    }

    /// <summary>Emits the compilation with the generated sources and loads it.</summary>
    private static LoadedAssembly Emit(GeneratorRun.Result result)
    {
        using var image = new MemoryStream();
        var emit = result.Output.Emit(image);
        Assert.True(emit.Success, string.Join("\n", emit.Diagnostics));
        image.Position = 0;
        return new LoadedAssembly(image);
    }

    /// <summary>An emitted assembly in a collectible load context that shares the ProcessDsl runtime with the test.</summary>
    private sealed class LoadedAssembly : IDisposable
    {
        private readonly AssemblyLoadContext _context = new("generated", isCollectible: true);

        public LoadedAssembly(Stream image) => Assembly = _context.LoadFromStream(image);

        public Assembly Assembly { get; }

        public object? Invoke(string type, string method) =>
            Assembly.GetType(type, throwOnError: true)!.GetMethod(method)!.Invoke(null, null);

        public void Dispose() => _context.Unload();
    }
}
