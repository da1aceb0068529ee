namespace ProcessDsl.Generators.Model;

/// <summary>
/// What the parser found for one item: the model to emit (null when nothing can be generated) and
/// the diagnostics. The two travel separately after this step, so a diagnostic location shifting
/// under an edit elsewhere in the file never invalidates generated source.
/// </summary>
internal sealed record Parsed<T>(T? Model, EquatableArray<DiagnosticInfo> Diagnostics) where T : class;

/// <summary>One <c>[Policy]</c> method as parsed, before its application's policies are grouped.</summary>
/// <param name="Type">The containing class, or null when it cannot host generated code.</param>
/// <param name="Policies">The method's valid policies.</param>
/// <param name="PolicyLocations">Where each of <paramref name="Policies"/> is declared (its <c>typeof</c>), for duplicate checks.</param>
/// <param name="Diagnostics">Problems found in this method or its class.</param>
/// <param name="ClassKey">The class's fully qualified name, to group methods even when <paramref name="Type"/> is null.</param>
internal sealed record PolicyMethod(
    string ClassKey,
    TypeDeclarationModel? Type,
    EquatableArray<PolicyModel> Policies,
    EquatableArray<LocationInfo> PolicyLocations,
    EquatableArray<string> RowTypes,
    EquatableArray<DiagnosticInfo> Diagnostics);

/// <summary>One <c>[Apply]</c> method as parsed.</summary>
internal sealed record ApplyMethod(
    string ClassKey,
    TypeDeclarationModel? Type,
    ApplyMethodModel? Method,
    LocationInfo? MethodLocation,
    EquatableArray<DiagnosticInfo> Diagnostics);

/// <summary>One <c>[SubscribeTo]</c> method as parsed.</summary>
internal sealed record SubscribeMethod(
    string ClassKey,
    TypeDeclarationModel? Type,
    EquatableArray<SubscriptionModel> Subscriptions,
    EquatableArray<DiagnosticInfo> Diagnostics);

/// <summary>One event type declaration as parsed; <paramref name="TopicLocation"/> is where a duplicate topic is reported.</summary>
internal sealed record ParsedEventType(EventTypeModel? Model, LocationInfo? TopicLocation, EquatableArray<DiagnosticInfo> Diagnostics);
