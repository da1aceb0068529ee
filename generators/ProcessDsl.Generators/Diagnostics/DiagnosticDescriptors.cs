using Microsoft.CodeAnalysis;

namespace ProcessDsl.Generators.Diagnostics;

/// <summary>
/// Every diagnostic the generator reports. Ids are stable and never reused; each is documented,
/// with a wrong and a right example, at <c>docs/diagnostics.md#pdslNNN</c> and tracked in
/// <c>AnalyzerReleases.*.md</c>.
/// </summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "ProcessDsl";
    private const string HelpBase = "https://github.com/processdsl/processdsl/blob/main/docs/diagnostics.md#";

    public static readonly DiagnosticDescriptor TypeMustBePartial = Error(
        "PDSL001",
        "Type must be partial",
        "'{0}' must be declared 'partial' because {1}; add the 'partial' modifier to its declaration");

    public static readonly DiagnosticDescriptor PolicyClassMustDeriveFromProcessApplication = Error(
        "PDSL002",
        "[Policy] methods belong in a ProcessApplication",
        "'{0}' has [Policy] methods but does not derive from ProcessDsl.ProcessApplication; derive it from ProcessApplication or move the policies into one");

    public static readonly DiagnosticDescriptor ApplyClassMustDeriveFromAggregate = Error(
        "PDSL003",
        "[Apply] methods belong in an Aggregate",
        "'{0}' has [Apply] methods but does not derive from ProcessDsl.Aggregate; derive it from Aggregate or remove [Apply]");

    public static readonly DiagnosticDescriptor SystemClassMustBeStatic = Error(
        "PDSL004",
        "[ProcessSystem] class must be a non-generic static class",
        "[ProcessSystem] class '{0}' must be a non-generic 'static partial class' at namespace level; declare it as 'public static partial class {0};'");

    public static readonly DiagnosticDescriptor PolicySignature = Error(
        "PDSL005",
        "Policy method has the wrong signature",
        "Policy '{0}' {1}; a policy must be a non-generic, non-async instance method 'void {0}(TEvent e, ProcessDsl.ProcessingEvent processing)' with no ref, out or in parameters");

    public static readonly DiagnosticDescriptor NotAConcreteEvent = Error(
        "PDSL006",
        "typeof(...) must name a concrete DomainEvent type",
        "'{0}' is not a concrete (non-abstract, non-generic) type deriving from ProcessDsl.DomainEvent, so [{1}] can never match a stored event; name a concrete event type such as a sealed record deriving from DomainEvent");

    public static readonly DiagnosticDescriptor ParameterNotAssignable = Error(
        "PDSL007",
        "Parameter type does not accept the event type",
        "Method '{0}' takes '{1}', which '{2}' does not convert to; change the parameter to '{2}' or a base type of it");

    public static readonly DiagnosticDescriptor DuplicatePolicy = Error(
        "PDSL008",
        "Two policies for one event type",
        "Application '{0}' already has a policy for '{1}' (topic '{2}') in method '{3}'; an event is dispatched to one policy only, so merge the two or remove one");

    public static readonly DiagnosticDescriptor ApplySignature = Error(
        "PDSL009",
        "Apply method has the wrong signature",
        "Apply method '{0}' {1}; an apply method must be a non-generic, non-async instance method 'void {0}(TEvent e)' where TEvent derives from ProcessDsl.DomainEvent");

    public static readonly DiagnosticDescriptor DuplicateApply = Error(
        "PDSL010",
        "Two apply methods for one event type",
        "Aggregate '{0}' already applies '{1}' in method '{2}'; keep one [Apply] method per event type");

    public static readonly DiagnosticDescriptor DuplicateTopic = Error(
        "PDSL011",
        "Two event types share a topic",
        "Topic '{0}' of '{1}' is already the topic of '{2}'; every event type needs its own topic, so give one of them [Topic(\"...\")] with a distinct name");

    public static readonly DiagnosticDescriptor GenericEventType = Error(
        "PDSL012",
        "Generic event types have no topic",
        "Event type '{0}' is generic or nested in a generic type, so it has no stable topic and is not registered; declare a non-generic event type");

    public static readonly DiagnosticDescriptor InaccessibleEventType = Error(
        "PDSL013",
        "Event type is not accessible to the topic registry",
        "Event type '{0}' is {1}, so the generated topic registry cannot register it; make it (and every type containing it) public or internal");

    public static readonly DiagnosticDescriptor SubscriberSignature = Error(
        "PDSL014",
        "Subscriber has the wrong shape",
        "Subscriber '{0}' {1}; a subscriber must be 'static void {0}(TEvent e)' in a non-generic, public or internal partial class");

    public static readonly DiagnosticDescriptor PipelineTooShort = Error(
        "PDSL015",
        "Pipeline needs at least two applications",
        "[Pipeline] of '{0}' lists {1} application(s); a pipeline says who follows whom, so list a leader and at least one follower");

    public static readonly DiagnosticDescriptor PipelineEntryNotApplication = Error(
        "PDSL016",
        "Pipeline entry is not an application",
        "'{0}' does not derive from ProcessDsl.Application; list only application classes in [Pipeline]");

    public static readonly DiagnosticDescriptor PipelineFollowerNotProcessApplication = Error(
        "PDSL017",
        "Follower is not a process application",
        "'{0}' follows '{1}' in this pipeline but does not derive from ProcessDsl.ProcessApplication, so it cannot follow anything; derive it from ProcessApplication or move it to the front of the pipeline");

    public static readonly DiagnosticDescriptor SystemWithoutPipelines = Error(
        "PDSL018",
        "System has no pipelines",
        "[ProcessSystem] class '{0}' declares no [Pipeline]; add at least one [Pipeline(typeof(Leader), typeof(Follower))]");

    public static readonly DiagnosticDescriptor ApplicationNotConstructible = Error(
        "PDSL019",
        "Application cannot be constructed",
        "Application '{0}' {1}; the system creates each application with 'new {0}()', so give it an accessible parameterless constructor and make it non-abstract");

    public static readonly DiagnosticDescriptor DuplicateApplicationName = Error(
        "PDSL020",
        "Two applications share a name",
        "'{0}' and '{1}' are both named '{2}' in system '{3}'; application names (class names) must be unique in a system, so rename one class");

    public static readonly DiagnosticDescriptor PolicyNeverFed = Warning(
        "PDSL021",
        "Policy can never receive its event in this system",
        "In system '{0}', policy '{1}' of '{2}' handles '{3}', but {4}; add a pipeline from an application that records it, or remove the policy");

    public static readonly DiagnosticDescriptor InvalidTopic = Error(
        "PDSL022",
        "Topic is not valid",
        "Topic '{0}' of '{1}' is {2}; give a non-empty topic of at most 400 characters");

    public static readonly DiagnosticDescriptor GeneratorFailure = Error(
        "PDSL023",
        "The ProcessDsl generator failed",
        "The ProcessDsl generator failed while {0}, so some code was not generated; please report this with the stack trace: {1}");

    public static readonly DiagnosticDescriptor MemberAlreadyDeclared = Error(
        "PDSL024",
        "Type declares a member the generator writes",
        "'{0}' declares '{1}' itself, but the generator writes '{1}' from its {2}; remove the hand-written '{1}' and let the generated one do the work");

    public static readonly DiagnosticDescriptor UpcastGap = Error(
        "PDSL025",
        "Upcast chain has a gap",
        "'{0}' is at version {1} but has no [Upcast(From = {2})] step, so events stored at that version cannot be read; add 'static void FromV{2}(System.Text.Json.Nodes.JsonObject state)' with [Upcast(From = {2})] to the event type");

    public static readonly DiagnosticDescriptor UpcastOutOfRange = Error(
        "PDSL026",
        "Upcast step for a version that is not older than the current one",
        "[Upcast(From = {0})] of '{1}' upgrades version {0}, but the current version is {2}, so steps exist only for From = 1 to From = {2} - 1; raise Version in [Topic(\"...\", Version = n)] or fix From");

    public static readonly DiagnosticDescriptor UpcastSignature = Error(
        "PDSL027",
        "Upcast method has the wrong signature",
        "Upcast method '{0}' {1}; an upcast step must be 'static void {0}(System.Text.Json.Nodes.JsonObject state)', non-generic and not async");

    public static readonly DiagnosticDescriptor VersionWithoutUpcasts = Error(
        "PDSL028",
        "Event version above 1 without upcast steps",
        "'{0}' is at version {1} but has no [Upcast] step, so events stored at older versions cannot be read; add one [Upcast(From = k)] static method per older version k, from 1 to {1} - 1");

    public static readonly DiagnosticDescriptor UpcastOutsideEvent = Error(
        "PDSL029",
        "[Upcast] belongs in a concrete DomainEvent type",
        "Upcast method '{0}' is declared in '{1}', which is not a concrete type deriving from ProcessDsl.DomainEvent, so it never runs; move it into the event record whose stored JSON it upgrades");

    public static readonly DiagnosticDescriptor InvalidVersion = Error(
        "PDSL030",
        "Event version is not valid",
        "Version {0} of '{1}' is not valid; versions start at 1 (the default) and go up by one per change of shape");

    public static readonly DiagnosticDescriptor DuplicateUpcast = Error(
        "PDSL031",
        "Two upcast steps for one version",
        "'{0}' already has an upcast step from version {1} in method '{2}'; keep one [Upcast(From = {1})] step per version");

    public static readonly DiagnosticDescriptor ApplicationBuiltByContainer = Info(
        "PDSL032",
        "Application is built by the container",
        "Application '{0}' has no parameterless constructor the system can call, only a public one with parameters, so the system cannot create it itself: host the system with services.AddProcessDsl(...) (the container supplies the parameters) or give the runner a RunnerOptions.ApplicationFactory");

    public static readonly DiagnosticDescriptor TopicNotPinned = Create(
        "PDSL033",
        "Event type has no pinned topic",
        "Event type '{0}' is stored under its class name '{1}', so renaming or moving the class orphans its stored events; pin the name with [Topic(\"{1}\")]",
        DiagnosticSeverity.Warning,
        isEnabledByDefault: false);

    public static readonly DiagnosticDescriptor TriggeredWithoutApply = Warning(
        "PDSL034",
        "Triggered event has no [Apply] method",
        "Aggregate '{0}' triggers '{1}' but none of its [Apply] methods takes it, so the event changes nothing but the version; add '[Apply] void When({1} e)' or remove the event");

    public static readonly DiagnosticDescriptor AggregateSavedAsRow = Error(
        "PDSL035",
        "An aggregate is not a projection row",
        "processing.{0}(...) writes LinqToDB-mapped projection rows, but '{1}' is an aggregate; use processing.Collect({2}) so its new events commit with the tracking record");

    public static readonly DiagnosticDescriptor SaveInsidePolicy = Error(
        "PDSL036",
        "Save inside a policy",
        "Policy '{0}' calls Save(...) of its own application, which throws inside a policy; use processing.Collect(...) so the new events commit with the tracking record");

    public static readonly DiagnosticDescriptor RowWithoutPrimaryKey = Error(
        "PDSL037",
        "Projection row has no primary key",
        "processing.{0}(...) replaces or deletes rows by primary key, but '{1}' has no [PrimaryKey] member; mark its key property with [LinqToDB.Mapping.PrimaryKey]");

    private static DiagnosticDescriptor Error(string id, string title, string message) => Create(id, title, message, DiagnosticSeverity.Error);

    private static DiagnosticDescriptor Warning(string id, string title, string message) => Create(id, title, message, DiagnosticSeverity.Warning);

    private static DiagnosticDescriptor Info(string id, string title, string message) => Create(id, title, message, DiagnosticSeverity.Info);

    private static DiagnosticDescriptor Create(string id, string title, string message, DiagnosticSeverity severity, bool isEnabledByDefault = true) =>
        new(id, title, message, Category, severity, isEnabledByDefault, helpLinkUri: HelpBase + id.ToLowerInvariant());
}
