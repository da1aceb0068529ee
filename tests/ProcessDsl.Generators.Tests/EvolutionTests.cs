using System.Reflection;
using System.Runtime.Loader;
using System.Text;
using System.Text.Json.Nodes;
using ProcessDsl.Generators.Tests.Support;

namespace ProcessDsl.Generators.Tests;

/// <summary>
/// Event versions and upcasting: the generated registry carries each event's version and its steps,
/// and <see cref="EventTopics"/> runs them from the stored version up to the current one.
/// </summary>
public sealed class EvolutionTests
{
    private static string Evolving(string ns) => $$"""
        using System.Text.Json.Nodes;
        using ProcessDsl;

        namespace {{ns}};

        public sealed partial class Customer : Aggregate
        {
            // v1: { "Name": "Ada Lovelace" }  v2: { "FullName": "Ada Lovelace" }  v3: { "First": "Ada", "Last": "Lovelace", "Vip": false }
            [Topic("{{ns}}.customer.registered", Version = 3)]
            public sealed record Registered(string First, string Last, bool Vip) : DomainEvent
            {
                [Upcast(From = 2)]
                static void SplitName(JsonObject state)
                {
                    var parts = ((string)state["FullName"]!).Split(' ', 2);
                    state.Remove("FullName");
                    state["First"] = parts[0];
                    state["Last"] = parts.Length > 1 ? parts[1] : "";
                    state["Vip"] = false;
                }

                [Upcast(From = 1)]
                internal static void RenameName(JsonObject state)
                {
                    state["FullName"] = state["Name"]!.DeepClone();
                    state.Remove("Name");
                }
            }

            public sealed record Unchanged(int Value) : DomainEvent;
        }
        """;

    [Fact]
    public void The_registry_registers_each_event_at_its_version_with_its_steps_in_order()
    {
        var result = GeneratorRun.Run(Evolving("Shop"));

        Assert.Empty(result.GeneratorDiagnostics);
        Assert.Empty(result.CompilationProblems);
        Snapshot.Match("Evolution", result.Sources);
    }

    [Fact]
    public void Stored_state_of_every_older_version_is_upcast_through_the_generated_chain()
    {
        var ns = "Evolve" + Guid.NewGuid().ToString("N");
        using var loaded = Load(Evolving(ns));
        var registered = loaded.Assembly.GetType(ns + ".Customer+Registered", throwOnError: true)!;
        var topic = ns + ".customer.registered";

        Assert.Equal(3, EventTopics.VersionOf(registered));
        Assert.Equal(1, EventTopics.VersionOf(loaded.Assembly.GetType(ns + ".Customer+Unchanged", throwOnError: true)!));

        var fromV1 = Read(registered, Stored(topic, 1, """{"Name":"Ada Lovelace","OriginatorVersion":1}"""));
        var fromV2 = Read(registered, Stored(topic, 2, """{"FullName":"Grace Hopper","OriginatorVersion":1}"""));
        var current = Read(registered, Stored(topic, 3, """{"First":"Alan","Last":"Turing","Vip":true,"OriginatorVersion":1}"""));

        Assert.Equal(("Ada", "Lovelace", false), Fields(fromV1));
        Assert.Equal(("Grace", "Hopper", false), Fields(fromV2));
        Assert.Equal(("Alan", "Turing", true), Fields(current));
    }

    [Fact]
    public void A_private_step_is_called_through_an_unsafe_accessor_not_reflection()
    {
        var result = GeneratorRun.Run(Evolving("Shop"));
        var registry = result.Sources["ProcessDsl.EventTopics.g.cs"];

        Assert.Contains("UnsafeAccessorKind.StaticMethod, Name = \"SplitName\"", registry, StringComparison.Ordinal);
        Assert.Contains("global::Shop.Customer.Registered.RenameName,", registry, StringComparison.Ordinal);
        Assert.DoesNotContain("GetMethod", registry, StringComparison.Ordinal);
    }

    private static Notification Stored(string topic, int version, string json) =>
        new(1, Guid.NewGuid(), 1, topic, Encoding.UTF8.GetBytes(json), version);

    /// <summary>Reads through both entry points (by topic, and the generic fast path of dispatch) and checks they agree.</summary>
    private static DomainEvent Read(Type eventType, Notification notification)
    {
        var byTopic = EventTopics.Deserialize(notification);
        var generic = (DomainEvent)typeof(EventTopics).GetMethods()
            .Single(m => m.Name == nameof(EventTopics.Deserialize) && m.IsGenericMethodDefinition)
            .MakeGenericMethod(eventType)
            .Invoke(null, [notification])!;
        Assert.Equal(byTopic, generic);
        return byTopic;
    }

    private static (string, string, bool) Fields(DomainEvent e)
    {
        var type = e.GetType();
        return ((string)type.GetProperty("First")!.GetValue(e)!, (string)type.GetProperty("Last")!.GetValue(e)!, (bool)type.GetProperty("Vip")!.GetValue(e)!);
    }

    private static LoadedAssembly Load(string source)
    {
        var result = GeneratorRun.Run(source);
        Assert.Empty(result.GeneratorDiagnostics);
        using var image = new MemoryStream();
        var emit = result.Output.Emit(image);
        Assert.True(emit.Success, string.Join("\n", emit.Diagnostics));
        image.Position = 0;
        var loaded = new LoadedAssembly(image);
        System.Runtime.CompilerServices.RuntimeHelpers.RunModuleConstructor(loaded.Assembly.ManifestModule.ModuleHandle);
        return loaded;
    }

    private sealed class LoadedAssembly : IDisposable
    {
        private readonly AssemblyLoadContext _context = new("evolution", isCollectible: true);

        public LoadedAssembly(Stream image) => Assembly = _context.LoadFromStream(image);

        public Assembly Assembly { get; }

        public void Dispose() => _context.Unload();
    }
}

/// <summary><see cref="EventTopics"/> on its own, with event types registered by hand.</summary>
public sealed class EventTopicsUpcastTests
{
    public sealed record Renamed(string First, string Last) : DomainEvent;

    public sealed record Plain(int Value) : DomainEvent;

    public sealed record NotRegistered(int Value) : DomainEvent;

    public sealed record Strict(int Value) : DomainEvent;

    public sealed record Quiet(int Value) : DomainEvent;

    private static readonly List<string> s_steps = [];
    private static readonly string s_topic = "tests.renamed." + Guid.NewGuid().ToString("N");
    private static readonly string s_plainTopic = "tests.plain." + Guid.NewGuid().ToString("N");
    private static readonly string s_strictTopic = "tests.strict." + Guid.NewGuid().ToString("N");
    private static readonly string s_quietTopic = "tests.quiet." + Guid.NewGuid().ToString("N");

    static EventTopicsUpcastTests()
    {
        EventTopics.Register<Renamed>(s_topic, 3,
            state =>
            {
                lock (s_steps) s_steps.Add("1->2");
                state["Full"] = state["Name"]!.DeepClone();
                state.Remove("Name");
            },
            state =>
            {
                lock (s_steps) s_steps.Add("2->3");
                var parts = ((string)state["Full"]!).Split(' ');
                state.Remove("Full");
                state["First"] = parts[0];
                state["Last"] = parts[1];
            });
        EventTopics.Register<Plain>(s_plainTopic);
        EventTopics.Register<Strict>(s_strictTopic, 2, static _ => throw new FormatException("no Value to convert"));
        EventTopics.Register<Quiet>(s_quietTopic, 2, static _ => { });
    }

    private static Notification Stored(string topic, int version, string json) =>
        new(7, Guid.NewGuid(), 1, topic, Encoding.UTF8.GetBytes(json), version);

    private static string[] StepsDuring(Action read)
    {
        // Tests of this class run one at a time (one xunit collection), so the list is theirs while they run.
        lock (s_steps) s_steps.Clear();
        read();
        lock (s_steps) return s_steps.ToArray();
    }

    [Fact]
    public void Steps_run_in_order_from_the_stored_version_to_the_current_one()
    {
        Renamed? read = null;
        var steps = StepsDuring(() => read = EventTopics.Deserialize<Renamed>(Stored(s_topic, 1, """{"Name":"Ada Lovelace"}""")));

        Assert.Equal(["1->2", "2->3"], steps);
        Assert.Equal(("Ada", "Lovelace"), (read!.First, read.Last));
    }

    [Fact]
    public void A_later_stored_version_runs_only_the_remaining_steps()
    {
        DomainEvent? read = null;
        var stored = Stored(s_topic, 2, """{"Full":"Grace Hopper"}""");
        var steps = StepsDuring(() => read = EventTopics.Deserialize(stored));

        Assert.Equal(["2->3"], steps);
        // The aggregate id and version come from the notification's columns, not from the state.
        Assert.Equal(new Renamed("Grace", "Hopper") { OriginatorId = stored.OriginatorId, OriginatorVersion = stored.OriginatorVersion, Timestamp = read!.Timestamp }, read);
    }

    [Fact]
    public void State_at_the_current_version_is_read_as_stored_without_any_step()
    {
        Renamed? generic = null;
        DomainEvent? byTopic = null;
        var steps = StepsDuring(() =>
        {
            generic = EventTopics.Deserialize<Renamed>(Stored(s_topic, 3, """{"First":"Alan","Last":"Turing"}"""));
            byTopic = EventTopics.Deserialize(Stored(s_topic, 3, """{"First":"Alan","Last":"Turing"}"""));
        });

        Assert.Empty(steps);
        Assert.Equal(("Alan", "Turing"), (generic!.First, generic.Last));
        Assert.Equal(("Alan", "Turing"), (((Renamed)byTopic!).First, ((Renamed)byTopic).Last));
    }

    [Fact]
    public void The_current_version_fast_path_allocates_no_more_than_plain_deserialisation()
    {
        const int Reads = 1000;
        var stored = Stored(s_topic, 3, """{"First":"Alan","Last":"Turing"}""");
        long Allocated(Action read)
        {
            read(); // warm up
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < Reads; i++) read();
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }

        var direct = Allocated(() => System.Text.Json.JsonSerializer.Deserialize<Renamed>(stored.State, EventTopics.SerializerOptions));
        var viaTopics = Allocated(() => EventTopics.Deserialize<Renamed>(stored));
        var old = Stored(s_quietTopic, 1, """{"Value":1}""");
        var quietDirect = Allocated(() => System.Text.Json.JsonSerializer.Deserialize<Quiet>(old.State, EventTopics.SerializerOptions));
        var upcast = Allocated(() => EventTopics.Deserialize<Quiet>(old));

        // Building a JSON tree costs far more than 1 KB over a thousand reads; the fast path builds none.
        Assert.True(viaTopics <= direct + 1024, $"fast path {viaTopics} bytes, plain {direct} bytes");
        // The meter sees a tree: the upcast path (a step that does nothing) allocates well beyond plain reading.
        Assert.True(upcast > quietDirect + 1024, $"upcast path {upcast} bytes, plain {quietDirect} bytes");
    }

    [Fact]
    public void Events_stored_before_versions_existed_are_version_1_and_a_type_without_steps_reads_them_directly()
    {
        var notification = new Notification(1, Guid.NewGuid(), 1, s_plainTopic, Encoding.UTF8.GetBytes("""{"Value":5}"""));

        Assert.Equal(1, notification.Version);
        Assert.Equal(5, EventTopics.Deserialize<Plain>(notification).Value);
        Assert.Equal(5, ((Plain)EventTopics.Deserialize(notification)).Value);
        Assert.Equal(1, EventTopics.VersionOf(typeof(Plain)));
        Assert.Equal(3, EventTopics.VersionOf(typeof(Renamed)));
        Assert.Equal(1, EventTopics.VersionOf(typeof(NotRegistered)));
    }

    [Fact]
    public void A_stored_version_above_the_current_one_is_a_clear_error()
    {
        var stored = Stored(s_topic, 4, """{"First":"A","Last":"B"}""");

        var byTopic = Assert.Throws<EventDeserializationException>(() => EventTopics.Deserialize(stored));
        var generic = Assert.Throws<EventDeserializationException>(() => EventTopics.Deserialize<Renamed>(stored));

        foreach (var error in new[] { byTopic, generic })
        {
            Assert.Equal(7, error.NotificationId);
            Assert.Contains("stored at version 4", error.Message, StringComparison.Ordinal);
            Assert.Contains("knows version 3 at most", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_step_that_throws_and_state_that_is_not_an_object_are_deserialization_errors()
    {
        var thrown = Assert.Throws<EventDeserializationException>(() => EventTopics.Deserialize<Strict>(Stored(s_strictTopic, 1, """{"V":1}""")));
        Assert.Contains("upcast step from version 1", thrown.Message, StringComparison.Ordinal);
        Assert.Contains("no Value to convert", thrown.Message, StringComparison.Ordinal);
        Assert.IsType<FormatException>(thrown.InnerException);

        var array = Assert.Throws<EventDeserializationException>(() => EventTopics.Deserialize(Stored(s_topic, 1, "[1,2]")));
        Assert.Contains("not a JSON object", array.Message, StringComparison.Ordinal);

        var zero = Assert.Throws<EventDeserializationException>(() => EventTopics.Deserialize(Stored(s_topic, 0, "{}")));
        Assert.Contains("stored version 0 is not valid", zero.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unregistered_type_cannot_read_a_versioned_event()
    {
        var error = Assert.Throws<EventDeserializationException>(() =>
            EventTopics.Deserialize<NotRegistered>(Stored("tests.not-registered", 2, """{"Value":1}""")));

        Assert.Contains("not registered with a version", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Registration_checks_the_version_and_the_number_of_steps()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => EventTopics.Register<NotRegistered>("tests.v0", 0));
        var count = Assert.Throws<ArgumentException>(() => EventTopics.Register<NotRegistered>("tests.v3", 3, static _ => { }));
        Assert.Contains("needs 2 upcast step(s)", count.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => EventTopics.Register<NotRegistered>("tests.null", 2, [null!]));

        EventTopics.Register<Renamed>(s_topic, 3, static _ => { }, static _ => { }); // the same registration again is harmless
        var again = Assert.Throws<InvalidOperationException>(() => EventTopics.Register<Renamed>(s_topic, 2, static _ => { }));
        Assert.Contains("already registered at version 3, not 2", again.Message, StringComparison.Ordinal);
        Assert.Equal(1, EventTopics.VersionOf(typeof(NotRegistered)));
    }
}
