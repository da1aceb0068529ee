using ProcessDsl.Generators.Model;

namespace ProcessDsl.Generators.Emitting;

internal static partial class Emitter
{
    /// <summary>A module initializer that adds a class's <c>[SubscribeTo]</c> methods to the synchronous publish table.</summary>
    public static (string HintName, string Source) Subscriber(SubscriberModel model)
    {
        var writer = NewFile();
        using (OpenType(writer, model.Type))
        {
            writer.WriteLine("/// <summary>Registers this class's [SubscribeTo] methods when the assembly loads.</summary>");
            writer.WriteLine(GeneratedCodeAttribute);
            writer.WriteLine("[global::System.Runtime.CompilerServices.ModuleInitializer]");
            using (writer.OpenBlock("internal static void __ProcessDsl_RegisterSubscriptions()"))
            {
                foreach (var subscription in model.Subscriptions)
                    writer.WriteLine($"global::ProcessDsl.Subscriptions.Subscribe<{subscription.EventType}>({subscription.MethodName});");
            }
        }
        return (HintName(model.Type, "Subscriptions"), writer.ToString());
    }
}
