using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using ProcessDsl.Generators.Diagnostics;
using ProcessDsl.Generators.Model;

namespace ProcessDsl.Generators.Parsing;

/// <summary>
/// PDSL021: a policy of a system application whose event type none of that application's upstreams
/// in the system can record. Run by <see cref="Analyzers.ProcessDslAnalyzer"/> (a whole-compilation
/// question, kept out of the generator's pipeline), and only reported where the answer is certain:
/// <list type="bullet">
/// <item>the application follows nothing in the system (its policies never run there), or</item>
/// <item>for every upstream: its code (declared in this compilation up to Application) and every
/// <c>upstream.Save(...)</c> anywhere in this compilation save only sealed aggregates of this
/// compilation whose code never triggers the event type (nor a base or derived type of it), and
/// nothing outside this compilation can add one: the upstream or the event type is invisible to
/// other assemblies, and for an upstream other assemblies can see, no aggregate of this compilation
/// triggers the event at all.</item>
/// </list>
/// Anything the analysis cannot follow (a <c>this</c> or a <c>ProcessingEvent</c> handed elsewhere, an
/// aggregate of a base type, <c>Save</c> as a method group, an unresolved call) counts as "may
/// record", so the warning stays quiet.
/// </summary>
internal static partial class Parser
{
    /// <summary>PDSL021 for one <c>[ProcessSystem]</c> class; nothing when its pipelines are broken (the generator reports those).</summary>
    public static IEnumerable<DiagnosticInfo> UnfedPolicies(INamedTypeSymbol system, Compilation compilation, CancellationToken cancellationToken)
    {
        var applications = new List<INamedTypeSymbol>();
        var upstreams = new Dictionary<INamedTypeSymbol, List<INamedTypeSymbol>>(SymbolEqualityComparer.Default);
        foreach (var pipeline in system.GetAttributes().Where(a => IsRuntimeType(a.AttributeClass, "PipelineAttribute")))
        {
            if (pipeline.ConstructorArguments.Length != 1 || pipeline.ConstructorArguments[0].Kind != TypedConstantKind.Array) return [];
            var entries = pipeline.ConstructorArguments[0].Values.Select(v => v.Value as INamedTypeSymbol).ToList();
            if (entries.Count < 2) return [];
            INamedTypeSymbol? previous = null;
            foreach (var entry in entries)
            {
                // A system the generator rejects (PDSL015-020) gets no warning on top of its errors.
                if (entry is null || entry.TypeKind == TypeKind.Error || !DerivesFrom(entry, "Application")
                    || entry.IsAbstract || entry.IsGenericType
                    || (previous is not null && !DerivesFrom(entry, "ProcessApplication"))
                    || applications.Any(a => a.Name == entry.Name && !SymbolEqualityComparer.Default.Equals(a, entry)))
                    return [];
                if (!upstreams.ContainsKey(entry))
                {
                    applications.Add(entry);
                    upstreams.Add(entry, new List<INamedTypeSymbol>());
                }
                if (previous is not null && !upstreams[entry].Contains(previous, SymbolEqualityComparer.Default))
                    upstreams[entry].Add(previous);
                previous = entry;
            }
        }
        return UnfedPolicies(system.Name, applications, upstreams, compilation, cancellationToken);
    }

    private static IEnumerable<DiagnosticInfo> UnfedPolicies(
        string systemName,
        List<INamedTypeSymbol> applications,
        Dictionary<INamedTypeSymbol, List<INamedTypeSymbol>> upstreams,
        Compilation compilation,
        CancellationToken cancellationToken)
    {
        var analysis = new RecordingAnalysis(compilation, cancellationToken);
        var diagnostics = new List<DiagnosticInfo>();
        foreach (var application in applications)
        {
            var sources = upstreams[application];
            foreach (var policy in PoliciesOf(application, cancellationToken))
            {
                if (ArgumentLocation(policy.Attribute, 0, 1, cancellationToken) is not { } location) continue; // not in this compilation
                string? reason = null;
                if (sources.Count == 0)
                {
                    reason = $"'{application.Name}' follows no application in this system";
                }
                else if (!sources.Any(u => analysis.MayRecord(u, policy.EventType)))
                {
                    reason = $"none of its upstreams ({string.Join(", ", sources.Select(s => s.Name))}) saves an aggregate that triggers it";
                }
                if (reason is not null)
                {
                    diagnostics.Add(DiagnosticInfo.Create(
                        DiagnosticDescriptors.PolicyNeverFed, location, systemName, policy.Method.Name, application.Name, Display(policy.EventType), reason));
                }
            }
        }
        return diagnostics;
    }

    /// <summary>What applications save and aggregates trigger, each worked out once per system.</summary>
    private sealed class RecordingAnalysis(Compilation compilation, CancellationToken cancellationToken)
    {
        private readonly Dictionary<INamedTypeSymbol, List<ITypeSymbol>?> _saved = new(SymbolEqualityComparer.Default);
        private readonly Dictionary<ITypeSymbol, List<ITypeSymbol>?> _triggered = new(SymbolEqualityComparer.Default);
        private readonly Dictionary<SyntaxTree, SemanticModel> _models = new();

        private List<(ITypeSymbol? Receiver, List<ITypeSymbol>? Saved)>? _outsideSaves;
        private List<ITypeSymbol>? _allTriggered;
        private bool _allTriggeredKnown;

        public bool MayRecord(INamedTypeSymbol upstream, INamedTypeSymbol eventType)
        {
            if (!_saved.TryGetValue(upstream, out var saved))
            {
                saved = SavedAggregates(upstream);
                if (saved is not null)
                {
                    foreach (var (receiver, arguments) in OutsideSaves())
                    {
                        if (receiver is not null && !Related(receiver, upstream)) continue;
                        if (arguments is null)
                        {
                            saved = null;
                            break;
                        }
                        saved.AddRange(arguments);
                    }
                }
                _saved.Add(upstream, saved);
            }
            if (saved is null || saved.Any(aggregate => MayTrigger(aggregate, eventType))) return true;
            // Another assembly may call upstream.Save(...) with an aggregate of its own (which may
            // trigger any event it can see), or with one of ours that triggers the event.
            if (!VisibleElsewhere(upstream)) return false;
            if (VisibleElsewhere(eventType)) return true;
            var all = AllTriggered();
            return all is null || all.Any(t => Related(t, eventType));
        }

        private bool VisibleElsewhere(INamedTypeSymbol type)
        {
            if (compilation.Assembly.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == "System.Runtime.CompilerServices.InternalsVisibleToAttribute"))
                return true;
            for (var current = type; current is not null; current = current.ContainingType)
            {
                if (current.DeclaredAccessibility is not (Accessibility.Public or Accessibility.Protected or Accessibility.ProtectedOrInternal)) return false;
            }
            return true;
        }

        /// <summary>Every <c>x.Save(...)</c> of an application in this compilation with an explicit receiver (null: any application).</summary>
        private List<(ITypeSymbol? Receiver, List<ITypeSymbol>? Saved)> OutsideSaves()
        {
            if (_outsideSaves is not null) return _outsideSaves;
            _outsideSaves = new List<(ITypeSymbol?, List<ITypeSymbol>?)>();
            foreach (var tree in compilation.SyntaxTrees)
            {
                SemanticModel? model = null;
                foreach (var name in tree.GetRoot(cancellationToken).DescendantNodes().OfType<SimpleNameSyntax>())
                {
                    if (name.Identifier.Text != "Save") continue;
                    ExpressionSyntax? receiver = name.Parent switch
                    {
                        MemberAccessExpressionSyntax access when access.Name == name => access.Expression,
                        MemberBindingExpressionSyntax => null, // app?.Save(...): the receiver is out of reach here
                        _ => name, // an unqualified Save: inside an application, handled with its own code
                    };
                    if (receiver is ThisExpressionSyntax or BaseExpressionSyntax || receiver == name) continue;
                    model ??= Model(tree);
                    var target = Target(name, model, cancellationToken, out var ambiguous);
                    if (!ambiguous && !IsRuntimeMethod(target, "Application", "Save")) continue;
                    var receiverType = receiver is null ? null : model.GetTypeInfo(receiver, cancellationToken).Type;
                    if (receiverType is { TypeKind: TypeKind.Error }) receiverType = null;
                    if (ambiguous || InvocationOf(name) is not { } invocation)
                    {
                        _outsideSaves.Add((receiverType, null));
                        continue;
                    }
                    List<ITypeSymbol>? arguments = new List<ITypeSymbol>();
                    foreach (var argument in invocation.ArgumentList.Arguments)
                    {
                        var argumentType = model.GetTypeInfo(argument.Expression, cancellationToken).Type;
                        if (argumentType is IArrayTypeSymbol array) argumentType = array.ElementType;
                        if (argumentType is null || argumentType.TypeKind == TypeKind.Error)
                        {
                            arguments = null;
                            break;
                        }
                        arguments.Add(argumentType);
                    }
                    _outsideSaves.Add((receiverType, arguments));
                }
            }
            return _outsideSaves;
        }

        /// <summary>The event types every Trigger/Create in this compilation passes, or null when one cannot be known.</summary>
        private List<ITypeSymbol>? AllTriggered()
        {
            if (_allTriggeredKnown) return _allTriggered;
            _allTriggeredKnown = true;
            var all = new List<ITypeSymbol>();
            foreach (var tree in compilation.SyntaxTrees)
            {
                SemanticModel? model = null;
                foreach (var name in tree.GetRoot(cancellationToken).DescendantNodes().OfType<SimpleNameSyntax>())
                {
                    if (name.Identifier.Text is not ("Trigger" or "Create")) continue;
                    model ??= Model(tree);
                    var target = Target(name, model, cancellationToken, out var ambiguous);
                    if (ambiguous) return null;
                    var index = IsRuntimeMethod(target, "Aggregate", "Trigger") ? 0 : IsRuntimeMethod(target, "Aggregate", "Create") ? 1 : -1;
                    if (index < 0) continue;
                    if (InvocationOf(name) is not { } invocation || invocation.ArgumentList.Arguments.Count <= index) return null;
                    var argument = model.GetTypeInfo(invocation.ArgumentList.Arguments[index].Expression, cancellationToken).Type;
                    if (argument is null || argument.TypeKind == TypeKind.Error) return null;
                    all.Add(argument);
                }
            }
            _allTriggered = all;
            return all;
        }

        private bool MayTrigger(ITypeSymbol aggregate, INamedTypeSymbol eventType)
        {
            if (!_triggered.TryGetValue(aggregate, out var triggered))
            {
                triggered = Triggered(aggregate);
                _triggered.Add(aggregate, triggered);
            }
            return triggered is null || triggered.Any(t => Related(t, eventType));
        }

        private SemanticModel Model(SyntaxTree tree)
        {
            if (!_models.TryGetValue(tree, out var model))
            {
                model = compilation.GetSemanticModel(tree);
                _models.Add(tree, model);
            }
            return model;
        }

        /// <summary>The static types of every aggregate an application's own code saves, or null when that cannot be known.</summary>
        private List<ITypeSymbol>? SavedAggregates(INamedTypeSymbol application)
        {
            if (SourceChain(application, "Application", "ProcessApplication") is not { } chain) return null;
            var saved = new List<ITypeSymbol>();
            foreach (var type in chain)
            {
                foreach (var node in Declarations(type, cancellationToken))
                {
                    var model = Model(node.SyntaxTree);
                    var processingNames = ProcessingEventParameters(node, model);
                    foreach (var descendant in node.DescendantNodes())
                    {
                        if (Escapes(descendant, processingNames)) return null;
                        if (descendant is not SimpleNameSyntax name || name.Identifier.Text is not ("Save" or "Collect")) continue;
                        var target = Target(name, model, cancellationToken, out var ambiguous);
                        if (ambiguous) return null;
                        if (!IsRuntimeMethod(target, "Application", "Save") && !IsRuntimeMethod(target, "ProcessingEvent", "Collect")) continue;
                        if (InvocationOf(name) is not { } invocation) return null; // a method group we cannot follow
                        foreach (var argument in invocation.ArgumentList.Arguments)
                        {
                            var argumentType = model.GetTypeInfo(argument.Expression, cancellationToken).Type;
                            if (argumentType is IArrayTypeSymbol array) argumentType = array.ElementType;
                            if (argumentType is null || argumentType.TypeKind == TypeKind.Error) return null;
                            saved.Add(argumentType);
                        }
                    }
                }
            }
            return saved;
        }

        /// <summary>The static types of every event an aggregate's code triggers, or null when that cannot be known.</summary>
        private List<ITypeSymbol>? Triggered(ITypeSymbol aggregate)
        {
            // An unsealed static type may be any subclass at run time, including ones this compilation cannot see.
            if (aggregate is not INamedTypeSymbol { IsSealed: true } named) return null;
            if (SourceChain(named, "Aggregate") is not { } chain) return null;
            var triggered = new List<ITypeSymbol>();
            foreach (var type in chain)
            {
                foreach (var node in Declarations(type, cancellationToken))
                {
                    var model = Model(node.SyntaxTree);
                    foreach (var name in node.DescendantNodes().OfType<SimpleNameSyntax>())
                    {
                        if (name.Identifier.Text is not ("Trigger" or "Create")) continue;
                        var target = Target(name, model, cancellationToken, out var ambiguous);
                        if (ambiguous) return null;
                        var index = IsRuntimeMethod(target, "Aggregate", "Trigger") ? 0 : IsRuntimeMethod(target, "Aggregate", "Create") ? 1 : -1;
                        if (index < 0) continue;
                        if (InvocationOf(name) is not { } invocation || invocation.ArgumentList.Arguments.Count <= index) return null;
                        var argument = model.GetTypeInfo(invocation.ArgumentList.Arguments[index].Expression, cancellationToken).Type;
                        if (argument is null || argument.TypeKind == TypeKind.Error) return null;
                        triggered.Add(argument);
                    }
                }
            }
            return triggered;
        }

        /// <summary>
        /// Names of the parameters of type ProcessingEvent declared in a class. A ProcessingEvent only
        /// ever arrives as a policy's parameter, so following those names follows every one of them.
        /// </summary>
        private HashSet<string> ProcessingEventParameters(SyntaxNode node, SemanticModel model)
        {
            var names = new HashSet<string>(System.StringComparer.Ordinal);
            foreach (var parameter in node.DescendantNodes().OfType<ParameterSyntax>())
            {
                if (model.GetDeclaredSymbol(parameter, cancellationToken) is IParameterSymbol symbol && IsRuntimeType(symbol.Type, "ProcessingEvent"))
                    names.Add(parameter.Identifier.Text);
            }
            return names;
        }
    }

    private static bool Related(ITypeSymbol a, ITypeSymbol b)
    {
        for (var current = a; current is not null; current = current.BaseType)
            if (SymbolEqualityComparer.Default.Equals(current, b)) return true;
        for (var current = b; current is not null; current = current.BaseType)
            if (SymbolEqualityComparer.Default.Equals(current, a)) return true;
        return false;
    }

    /// <summary>The type and its base types below the named runtime base(s), or null when one of them is not declared in source.</summary>
    private static List<INamedTypeSymbol>? SourceChain(INamedTypeSymbol type, params string[] runtimeBases)
    {
        var chain = new List<INamedTypeSymbol>();
        for (var current = type; current is not null; current = current.BaseType)
        {
            if (runtimeBases.Any(b => IsRuntimeType(current, b))) return chain;
            if (current.DeclaringSyntaxReferences.Length == 0) return null;
            chain.Add(current);
        }
        return null;
    }

    private static IEnumerable<SyntaxNode> Declarations(INamedTypeSymbol type, CancellationToken cancellationToken) =>
        type.DeclaringSyntaxReferences.Select(r => r.GetSyntax(cancellationToken));

    /// <summary>A <c>this</c> or a ProcessingEvent used as anything but the receiver of a member access: it may reach code we do not see.</summary>
    private static bool Escapes(SyntaxNode node, HashSet<string> processingNames)
    {
        if (node is not (ThisExpressionSyntax or IdentifierNameSyntax)) return false;
        if (node.Parent is MemberAccessExpressionSyntax access && access.Expression == node) return false;
        if (node is ThisExpressionSyntax) return true;
        if (node.Parent is MemberAccessExpressionSyntax or QualifiedNameSyntax) return false; // a member's name, not the variable
        return processingNames.Contains(((IdentifierNameSyntax)node).Identifier.Text);
    }

    private static IMethodSymbol? Target(SimpleNameSyntax name, SemanticModel model, CancellationToken cancellationToken, out bool ambiguous)
    {
        var info = model.GetSymbolInfo(name, cancellationToken);
        ambiguous = info.Symbol is null && info.CandidateSymbols.Any(c => c.Name == name.Identifier.Text);
        return (info.Symbol as IMethodSymbol)?.OriginalDefinition;
    }

    private static bool IsRuntimeMethod(IMethodSymbol? method, string type, string name) =>
        method is not null && method.Name == name && IsRuntimeType(method.ContainingType, type);

    private static InvocationExpressionSyntax? InvocationOf(SimpleNameSyntax name)
    {
        SyntaxNode expression = name;
        if (name.Parent is MemberAccessExpressionSyntax access && access.Name == name) expression = access;
        return expression.Parent is InvocationExpressionSyntax invocation && invocation.Expression == expression ? invocation : null;
    }
}
