using System;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using ProcessDsl.Generators.Diagnostics;
using ProcessDsl.Generators.Emitting;
using ProcessDsl.Generators.Model;
using ProcessDsl.Generators.Parsing;

namespace ProcessDsl.Generators;

/// <summary>
/// Compiles ProcessDsl's attributes into code: <c>[Policy]</c> into dispatch tables, <c>[Apply]</c>
/// into apply tables, event types into the topic registry, <c>[SubscribeTo]</c> into the publish
/// table and <c>[ProcessSystem]</c>/<c>[Pipeline]</c> into system definitions.
/// </summary>
/// <remarks>
/// Each pipeline is parse (syntax and symbols to plain models plus diagnostics) then emit (models
/// to text). Models and diagnostics part ways right after parsing: generated source depends only on
/// location-free models, so moving text around never regenerates anything.
/// </remarks>
[Generator(LanguageNames.CSharp)]
public sealed class ProcessDslGenerator : IIncrementalGenerator
{
    private const string Policy = "ProcessDsl.PolicyAttribute";
    private const string Apply = "ProcessDsl.ApplyAttribute";
    private const string SubscribeTo = "ProcessDsl.SubscribeToAttribute";
    private const string ProcessSystem = "ProcessDsl.ProcessSystemAttribute";
    private const string Upcast = "ProcessDsl.UpcastAttribute";

    private readonly Action<string>? _onStage;

    /// <summary>Creates the generator.</summary>
    public ProcessDslGenerator()
    {
    }

    /// <summary>For tests: <paramref name="onStage"/> is called at the start of every parse and emit stage (and may throw).</summary>
    internal ProcessDslGenerator(Action<string> onStage) => _onStage = onStage;

    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        // Policies -> one dispatch table per process application.
        var policyMethods = context.SyntaxProvider
            .ForAttributeWithMetadataName(Policy, static (node, _) => node is Microsoft.CodeAnalysis.CSharp.Syntax.MethodDeclarationSyntax,
                (c, ct) => Guard("parsing a [Policy] method", ct, () => Parser.ParsePolicyMethod(c, ct), static d => new PolicyMethod("", null, default, default, default, Single(d))))
            .WithTrackingName(TrackingNames.PolicyMethods);
        var applications = policyMethods.Collect()
            .SelectMany((methods, ct) => Guard("grouping policies", ct, () => Parser.GroupApplications(methods).ToImmutableArray(), static d => ImmutableArray.Create(new Parsed<ApplicationModel>(null, Single(d)))));
        Generate(context, applications, TrackingNames.Applications, "emitting a dispatch table", Emitter.Application);

        // Apply methods -> one apply table per aggregate.
        var applyMethods = context.SyntaxProvider
            .ForAttributeWithMetadataName(Apply, static (node, _) => node is Microsoft.CodeAnalysis.CSharp.Syntax.MethodDeclarationSyntax,
                (c, ct) => Guard("parsing an [Apply] method", ct, () => Parser.ParseApplyMethod(c, ct), static d => new ApplyMethod("", null, null, null, Single(d))))
            .WithTrackingName(TrackingNames.ApplyMethods);
        var aggregates = applyMethods.Collect()
            .SelectMany((methods, ct) => Guard("grouping apply methods", ct, () => Parser.GroupAggregates(methods).ToImmutableArray(), static d => ImmutableArray.Create(new Parsed<AggregateModel>(null, Single(d)))));
        Generate(context, aggregates, TrackingNames.Aggregates, "emitting an apply table", Emitter.Aggregate);

        // Subscribers -> one module initializer per class.
        var subscribeMethods = context.SyntaxProvider
            .ForAttributeWithMetadataName(SubscribeTo, static (node, _) => node is Microsoft.CodeAnalysis.CSharp.Syntax.MethodDeclarationSyntax,
                (c, ct) => Guard("parsing a [SubscribeTo] method", ct, () => Parser.ParseSubscribeMethod(c, ct), static d => new SubscribeMethod("", null, default, Single(d))))
            .WithTrackingName(TrackingNames.SubscribeMethods);
        var subscribers = subscribeMethods.Collect()
            .SelectMany((methods, ct) => Guard("grouping subscribers", ct, () => Parser.GroupSubscribers(methods).ToImmutableArray(), static d => ImmutableArray.Create(new Parsed<SubscriberModel>(null, Single(d)))));
        Generate(context, subscribers, TrackingNames.Subscribers, "emitting subscriptions", Emitter.Subscriber);

        // Systems -> SystemDefinition per [ProcessSystem] class.
        var systems = context.SyntaxProvider
            .ForAttributeWithMetadataName(ProcessSystem, static (node, _) => node is Microsoft.CodeAnalysis.CSharp.Syntax.ClassDeclarationSyntax,
                (c, ct) => Guard("parsing a [ProcessSystem] class", ct, () => Parser.ParseSystem(c, ct), static d => new Parsed<SystemModel>(null, Single(d))))
            .WithTrackingName(TrackingNames.SystemDeclarations);
        Generate(context, systems, TrackingNames.Systems, "emitting a system definition", Emitter.SystemDefinition);

        // Event types -> one topic registry per compilation.
        var eventDeclarations = context.SyntaxProvider
            .CreateSyntaxProvider(Parser.MayBeEventType,
                (c, ct) => Guard("parsing an event type", ct, () => Parser.ParseEventType(c, ct), static d => new ParsedEventType(null, null, Single(d))))
            .Where(static e => e is not null)
            .Select(static (e, _) => e!)
            .WithTrackingName(TrackingNames.EventTypeDeclarations);
        var allEvents = eventDeclarations.Collect();
        var registry = allEvents
            .Select((events, ct) => Guard("collecting event types", ct,
                () => Parser.RegistrableEvents(events.Select(e => e.Model).Where(m => m is not null)!),
                _ => EquatableArray<EventTypeModel>.Empty))
            .WithTrackingName(TrackingNames.EventTypes);
        context.RegisterSourceOutput(registry, (spc, events) =>
        {
            if (events.IsEmpty) return;
            Emit(spc, "emitting the topic registry", () => Emitter.EventTopics(events));
        });
        var eventDiagnostics = allEvents.Select((events, ct) => Guard("checking topics", ct,
            () => events.SelectMany(e => e.Diagnostics).Concat(Parser.DuplicateTopics(events)).ToEquatableArray(),
            Single));
        ReportDiagnostics(context, eventDiagnostics);

        // Upcast steps are compiled into the topic registry above; here each is checked on its own.
        var upcastDiagnostics = context.SyntaxProvider
            .ForAttributeWithMetadataName(Upcast, static (node, _) => node is Microsoft.CodeAnalysis.CSharp.Syntax.MethodDeclarationSyntax,
                (c, ct) => Guard("checking an [Upcast] method", ct, () => Parser.ParseUpcastMethod(c, ct), Single))
            .WithTrackingName(TrackingNames.UpcastMethods);
        ReportDiagnostics(context, upcastDiagnostics.Where(static d => !d.IsEmpty).Collect()
            .Select(static (all, _) => all.SelectMany(d => d).ToEquatableArray()));
    }

    /// <summary>Splits parse results: models feed source output, diagnostics feed their own output.</summary>
    private void Generate<T>(
        IncrementalGeneratorInitializationContext context,
        IncrementalValuesProvider<Parsed<T>> parsed,
        string trackingName,
        string stage,
        Func<T, (string HintName, string Source)> emit)
        where T : class
    {
        var models = parsed
            .Select(static (p, _) => p.Model)
            .Where(static m => m is not null)
            .Select(static (m, _) => m!)
            .WithTrackingName(trackingName);
        context.RegisterSourceOutput(models, (spc, model) => Emit(spc, stage, () => emit(model)));
        ReportDiagnostics(context, parsed.Select(static (p, _) => p.Diagnostics).Where(static d => !d.IsEmpty).Collect()
            .Select(static (all, _) => all.SelectMany(d => d).ToEquatableArray()));
    }

    private static void ReportDiagnostics(IncrementalGeneratorInitializationContext context, IncrementalValueProvider<EquatableArray<DiagnosticInfo>> diagnostics)
    {
        // The compilation is only needed to turn stored locations back into tree locations; this
        // node re-runs on every edit, but does nothing unless there is something to report.
        context.RegisterSourceOutput(diagnostics.Combine(context.CompilationProvider), static (spc, pair) =>
        {
            foreach (var diagnostic in pair.Left) spc.ReportDiagnostic(diagnostic.ToDiagnostic(pair.Right));
        });
    }

    private void Emit(SourceProductionContext context, string stage, Func<(string HintName, string Source)> emit)
    {
        try
        {
            _onStage?.Invoke(stage);
            var (hintName, source) = emit();
            context.AddSource(hintName, source);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.GeneratorFailure, Location.None, stage, ex.ToString()));
        }
    }

    /// <summary>Runs one parse step; an exception becomes a PDSL023 diagnostic instead of a silently missing file.</summary>
    private T Guard<T>(string stage, CancellationToken cancellationToken, Func<T> parse, Func<DiagnosticInfo, T> failed)
    {
        try
        {
            _onStage?.Invoke(stage);
            return parse();
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return failed(DiagnosticInfo.Create(DiagnosticDescriptors.GeneratorFailure, null, stage, ex.ToString()));
        }
    }

    private static EquatableArray<DiagnosticInfo> Single(DiagnosticInfo diagnostic) => ImmutableArray.Create(diagnostic).ToEquatableArray();
}
