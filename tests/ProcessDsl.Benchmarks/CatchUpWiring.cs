// TEMPORARY: what the generator emits, until the generator lands.
using System.Collections.Frozen;

namespace ProcessDsl.Benchmarks;

public sealed partial class Item
{
    protected override void ApplyEvent(DomainEvent domainEvent)
    {
        if (domainEvent is Created e) When(e);
    }
}

public sealed partial class Copier
{
    private static readonly FrozenSet<string> s_topics = new[] { "ProcessDsl.Benchmarks.Item.Created" }.ToFrozenSet(StringComparer.Ordinal);
    public override IReadOnlySet<string> HandledTopics => s_topics;
    protected override bool DispatchPolicy(Notification notification, ProcessingEvent processing)
    {
        switch (notification.Topic)
        {
            case "ProcessDsl.Benchmarks.Item.Created": OnCreated(EventTopics.Deserialize<Item.Created>(notification), processing); return true;
            default: return false;
        }
    }
}

public static partial class CatchUpSystem
{
    static CatchUpSystem()
    {
        EventTopics.Register<Item.Created>("ProcessDsl.Benchmarks.Item.Created");
        EventTopics.Register<Copy.Created>("ProcessDsl.Benchmarks.Copy.Created");
    }

    public static SystemDefinition Definition { get; } = new("CatchUpSystem",
    [
        new ApplicationDefinition("Catalogue", typeof(Catalogue), static () => new Catalogue(), [], []),
        new ApplicationDefinition("Copier", typeof(Copier), static () => new Copier(), ["Catalogue"], ["ProcessDsl.Benchmarks.Item.Created"]),
    ]);
}
