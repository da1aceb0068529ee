namespace ProcessDsl.Generators.Model;

/// <summary>
/// A concrete, registrable domain event type, its topic (<paramref name="ExplicitTopic"/>: from <c>[Topic]</c>),
/// its current version and its upcast steps in order (the first upgrades version 1 to 2).
/// </summary>
internal sealed record EventTypeModel(string FullyQualifiedName, string Topic, bool ExplicitTopic, int Version, EquatableArray<UpcastModel> Upcasts);

/// <summary>
/// One <c>[Upcast]</c> step: the method's name as written in C# (<paramref name="Name"/>) and in metadata
/// (<paramref name="MetadataName"/>), and whether the registry may call it directly (else through an UnsafeAccessor).
/// </summary>
internal sealed record UpcastModel(string Name, string MetadataName, bool Accessible);

/// <summary>One policy of a process application: the topic it handles, the event type it reads, the method it calls.</summary>
internal sealed record PolicyModel(string Topic, string EventType, string MethodName);

/// <summary>A partial process application and its policies, in declaration order.</summary>
/// <remarks><c>RowTypes</c>: the projection row types its policies save, delete or query (fully qualified), in order of first use.</remarks>
internal sealed record ApplicationModel(TypeDeclarationModel Type, EquatableArray<PolicyModel> Policies, EquatableArray<string> RowTypes);

/// <summary>One apply method: the event type it takes and how deep that type sits below DomainEvent (deeper first in the switch).</summary>
internal sealed record ApplyMethodModel(string EventType, int Depth, string MethodName);

/// <summary>A partial aggregate and its apply methods.</summary>
internal sealed record AggregateModel(TypeDeclarationModel Type, EquatableArray<ApplyMethodModel> Methods);

/// <summary>One synchronous subscription: <c>Subscriptions.Subscribe&lt;EventType&gt;(MethodName)</c>.</summary>
internal sealed record SubscriptionModel(string EventType, string MethodName);

/// <summary>A partial class with <c>[SubscribeTo]</c> methods.</summary>
internal sealed record SubscriberModel(TypeDeclarationModel Type, EquatableArray<SubscriptionModel> Subscriptions);

/// <summary>
/// One application of a system: name, class, the applications it follows and the topics it handles;
/// <paramref name="HasFactory"/> is false when only a container can build it (constructor parameters).
/// </summary>
internal sealed record SystemApplicationModel(string Name, string FullyQualifiedName, EquatableArray<string> Upstreams, EquatableArray<string> Topics, bool HasFactory);

/// <summary>
/// A <c>[ProcessSystem]</c> class and its applications in first-appearance order. With
/// <paramref name="HasErrors"/>, the system has errors and gets a <c>Definition</c> that throws.
/// </summary>
internal sealed record SystemModel(TypeDeclarationModel Type, string Name, EquatableArray<SystemApplicationModel> Applications, bool HasErrors);
