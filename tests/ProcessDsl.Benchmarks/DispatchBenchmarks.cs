using System.Collections.Frozen;
using System.Text.Json;
using BenchmarkDotNet.Attributes;

namespace ProcessDsl.Benchmarks;

/// <summary>Events for the dispatch benchmarks: eight topics, so the switch is not trivial.</summary>
public sealed partial class Ticket : Aggregate
{
    public sealed record Opened(int N) : DomainEvent;
    public sealed record Assigned(int N) : DomainEvent;
    public sealed record Commented(int N) : DomainEvent;
    public sealed record Escalated(int N) : DomainEvent;
    public sealed record Resolved(int N) : DomainEvent;
    public sealed record Reopened(int N) : DomainEvent;
    public sealed record Closed(int N) : DomainEvent;
    public sealed record Archived(int N) : DomainEvent;
    public sealed record Ignored(int N) : DomainEvent;
}

/// <summary>The generated dispatch: eight policies compiled by ProcessDsl.Generators.</summary>
public sealed partial class GeneratedDesk : ProcessApplication
{
    public long Sum;

    [Policy(typeof(Ticket.Opened))] void On(Ticket.Opened e, ProcessingEvent p) => Sum += e.N;
    [Policy(typeof(Ticket.Assigned))] void On(Ticket.Assigned e, ProcessingEvent p) => Sum += e.N;
    [Policy(typeof(Ticket.Commented))] void On(Ticket.Commented e, ProcessingEvent p) => Sum += e.N;
    [Policy(typeof(Ticket.Escalated))] void On(Ticket.Escalated e, ProcessingEvent p) => Sum += e.N;
    [Policy(typeof(Ticket.Resolved))] void On(Ticket.Resolved e, ProcessingEvent p) => Sum += e.N;
    [Policy(typeof(Ticket.Reopened))] void On(Ticket.Reopened e, ProcessingEvent p) => Sum += e.N;
    [Policy(typeof(Ticket.Closed))] void On(Ticket.Closed e, ProcessingEvent p) => Sum += e.N;
    [Policy(typeof(Ticket.Archived))] void On(Ticket.Archived e, ProcessingEvent p) => Sum += e.N;

    public bool Dispatch(Notification n) => DispatchPolicy(n, null!);
}

/// <summary>A hand-written switch on the topic, as a careful person would write it.</summary>
public sealed class SwitchDesk : ProcessApplication
{
    public long Sum;

    public bool Dispatch(Notification n) => DispatchPolicy(n, null!);

    protected override bool DispatchPolicy(Notification n, ProcessingEvent p)
    {
        switch (n.Topic)
        {
            case "ProcessDsl.Benchmarks.Ticket.Opened": Sum += EventTopics.Deserialize<Ticket.Opened>(n).N; return true;
            case "ProcessDsl.Benchmarks.Ticket.Assigned": Sum += EventTopics.Deserialize<Ticket.Assigned>(n).N; return true;
            case "ProcessDsl.Benchmarks.Ticket.Commented": Sum += EventTopics.Deserialize<Ticket.Commented>(n).N; return true;
            case "ProcessDsl.Benchmarks.Ticket.Escalated": Sum += EventTopics.Deserialize<Ticket.Escalated>(n).N; return true;
            case "ProcessDsl.Benchmarks.Ticket.Resolved": Sum += EventTopics.Deserialize<Ticket.Resolved>(n).N; return true;
            case "ProcessDsl.Benchmarks.Ticket.Reopened": Sum += EventTopics.Deserialize<Ticket.Reopened>(n).N; return true;
            case "ProcessDsl.Benchmarks.Ticket.Closed": Sum += EventTopics.Deserialize<Ticket.Closed>(n).N; return true;
            case "ProcessDsl.Benchmarks.Ticket.Archived": Sum += EventTopics.Deserialize<Ticket.Archived>(n).N; return true;
            default: return false;
        }
    }
}

/// <summary>A dictionary from topic to delegate, the usual runtime-registered alternative.</summary>
public sealed class DictionaryDesk
{
    private readonly FrozenDictionary<string, Action<Notification>> _handlers;

    public long Sum;

    public DictionaryDesk()
    {
        _handlers = new Dictionary<string, Action<Notification>>
        {
            ["ProcessDsl.Benchmarks.Ticket.Opened"] = n => Sum += EventTopics.Deserialize<Ticket.Opened>(n).N,
            ["ProcessDsl.Benchmarks.Ticket.Assigned"] = n => Sum += EventTopics.Deserialize<Ticket.Assigned>(n).N,
            ["ProcessDsl.Benchmarks.Ticket.Commented"] = n => Sum += EventTopics.Deserialize<Ticket.Commented>(n).N,
            ["ProcessDsl.Benchmarks.Ticket.Escalated"] = n => Sum += EventTopics.Deserialize<Ticket.Escalated>(n).N,
            ["ProcessDsl.Benchmarks.Ticket.Resolved"] = n => Sum += EventTopics.Deserialize<Ticket.Resolved>(n).N,
            ["ProcessDsl.Benchmarks.Ticket.Reopened"] = n => Sum += EventTopics.Deserialize<Ticket.Reopened>(n).N,
            ["ProcessDsl.Benchmarks.Ticket.Closed"] = n => Sum += EventTopics.Deserialize<Ticket.Closed>(n).N,
            ["ProcessDsl.Benchmarks.Ticket.Archived"] = n => Sum += EventTopics.Deserialize<Ticket.Archived>(n).N,
        }.ToFrozenDictionary(StringComparer.Ordinal);
    }

    public bool Dispatch(Notification n)
    {
        if (!_handlers.TryGetValue(n.Topic, out var handler)) return false;
        handler(n);
        return true;
    }
}

/// <summary>
/// Generated dispatch against a hand-written switch and a frozen dictionary of delegates.
/// <c>Skip</c>: a topic no policy handles (the path most notifications of a busy upstream take):
/// routing only, no deserialisation. <c>Handle</c>: routing, deserialisation and the policy call.
/// </summary>
[MemoryDiagnoser]
public class DispatchBenchmarks
{
    private readonly GeneratedDesk _generated = new();
    private readonly SwitchDesk _switch = new();
    private readonly DictionaryDesk _dictionary = new();
    private Notification _handled = null!;
    private Notification _skipped = null!;

    [GlobalSetup]
    public void Setup()
    {
        var e = new Ticket.Resolved(7) { OriginatorId = Guid.NewGuid(), OriginatorVersion = 5, Timestamp = DateTimeOffset.UnixEpoch };
        var (topic, state) = EventTopics.Serialize(e);
        _handled = new Notification(1, e.OriginatorId, 5, topic, state);
        _skipped = new Notification(2, e.OriginatorId, 6, "ProcessDsl.Benchmarks.Ticket.Ignored", JsonSerializer.SerializeToUtf8Bytes(new Ticket.Ignored(1)));
        if (!_generated.Dispatch(_handled) || _generated.Dispatch(_skipped)) throw new InvalidOperationException("generated dispatch is wrong");
    }

    [Benchmark(Baseline = true)] public bool Switch_Skip() => _switch.Dispatch(_skipped);
    [Benchmark] public bool Generated_Skip() => _generated.Dispatch(_skipped);
    [Benchmark] public bool Dictionary_Skip() => _dictionary.Dispatch(_skipped);
    [Benchmark] public bool Switch_Handle() => _switch.Dispatch(_handled);
    [Benchmark] public bool Generated_Handle() => _generated.Dispatch(_handled);
    [Benchmark] public bool Dictionary_Handle() => _dictionary.Dispatch(_handled);
}
