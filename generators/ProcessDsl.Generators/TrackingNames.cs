namespace ProcessDsl.Generators;

/// <summary>Names of the pipeline steps, for incremental-caching tests (<c>trackIncrementalGeneratorSteps</c>).</summary>
internal static class TrackingNames
{
    // Per-item parse results: hold diagnostic locations, so they may change when text moves.
    public const string PolicyMethods = nameof(PolicyMethods);
    public const string ApplyMethods = nameof(ApplyMethods);
    public const string SubscribeMethods = nameof(SubscribeMethods);
    public const string EventTypeDeclarations = nameof(EventTypeDeclarations);
    public const string SystemDeclarations = nameof(SystemDeclarations);
    public const string UpcastMethods = nameof(UpcastMethods);

    // Models that generated source is made from: location-free, so they stay unchanged unless the meaning changes.
    public const string Applications = nameof(Applications);
    public const string Aggregates = nameof(Aggregates);
    public const string Subscribers = nameof(Subscribers);
    public const string EventTypes = nameof(EventTypes);
    public const string Systems = nameof(Systems);
}
