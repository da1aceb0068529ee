using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using ProcessDsl.Generators.Diagnostics;
using ProcessDsl.Generators.Model;

namespace ProcessDsl.Generators.Parsing;

internal static partial class Parser
{
    /// <summary>Parses one method carrying one or more <c>[Policy(typeof(E))]</c>.</summary>
    public static PolicyMethod ParsePolicyMethod(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        var method = (IMethodSymbol)context.TargetSymbol;
        var syntax = (MethodDeclarationSyntax)context.TargetNode;
        var type = method.ContainingType;
        var diagnostics = new List<DiagnosticInfo>();

        var declaration = DeclarationOf(type, "it has [Policy] methods", diagnostics, cancellationToken);
        if (!DerivesFrom(type, "ProcessApplication"))
        {
            diagnostics.Add(DiagnosticInfo.Create(
                DiagnosticDescriptors.PolicyClassMustDeriveFromProcessApplication, IdentifierLocation(type, cancellationToken), type.Name));
            declaration = null;
        }
        else if (DeclaresGeneratedMember(type, "[Policy] methods", diagnostics, cancellationToken, "DispatchPolicy", "HandledTopics"))
        {
            declaration = null;
        }

        var signatureProblem = PolicySignatureProblem(method);
        if (signatureProblem is not null)
        {
            diagnostics.Add(DiagnosticInfo.Create(
                DiagnosticDescriptors.PolicySignature, LocationInfo.From(syntax.Identifier), method.Name, signatureProblem));
        }

        var policies = new List<PolicyModel>();
        var locations = new List<LocationInfo>();
        foreach (var attribute in context.Attributes)
        {
            if (SingleArgument(attribute) is not ITypeSymbol eventType || eventType.TypeKind == TypeKind.Error)
                continue; // the compiler already reports a missing or unresolvable typeof
            var location = ArgumentLocation(attribute, 0, 1, cancellationToken) ?? LocationInfo.From(syntax.Identifier)!;
            if (!IsConcreteEvent(eventType))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NotAConcreteEvent, location, Display(eventType), "Policy"));
                continue;
            }
            if (signatureProblem is not null) continue;
            var parameter = method.Parameters[0].Type;
            if (!Converts(context.SemanticModel.Compilation, eventType, parameter))
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.ParameterNotAssignable, location, method.Name, Display(parameter), Display(eventType)));
                continue;
            }
            policies.Add(new PolicyModel(TopicOf((INamedTypeSymbol)eventType), FullyQualified(eventType), Identifier(method.Name)));
            locations.Add(location);
        }

        var rowTypes = RowTypesUsed(context.SemanticModel, syntax, cancellationToken);
        if (rowTypes.Count > 0 && declaration is not null
            && DeclaresGeneratedMember(type, "[Policy] methods that use projection rows", diagnostics, cancellationToken, "CreateRowTables"))
            declaration = null;

        return new PolicyMethod(
            FullyQualified(type), declaration, policies.ToEquatableArray(), locations.ToEquatableArray(), rowTypes.ToEquatableArray(), diagnostics.ToEquatableArray());
    }

    /// <summary>
    /// The projection row types a policy method passes to <c>ProcessingEvent.Save&lt;T&gt;</c> or
    /// <c>Delete&lt;T&gt;</c>, or queries with <c>Query&lt;T&gt;()</c>, in order of first use: concrete
    /// classes only (not <c>object</c>, an interface, an abstract class, an aggregate, a <c>file</c>
    /// type or anything open over a type parameter), whose tables the runner can create before the first step.
    /// </summary>
    private static List<string> RowTypesUsed(SemanticModel model, MethodDeclarationSyntax method, CancellationToken cancellationToken)
    {
        var found = new List<string>();
        foreach (var invocation in method.DescendantNodes().OfType<InvocationExpressionSyntax>())
        {
            cancellationToken.ThrowIfCancellationRequested();
            var name = invocation.Expression switch
            {
                MemberAccessExpressionSyntax member => member.Name.Identifier.ValueText,
                SimpleNameSyntax simple => simple.Identifier.ValueText,
                _ => null,
            };
            if (name is not ("Save" or "Delete" or "Query")) continue;
            if (model.GetSymbolInfo(invocation, cancellationToken).Symbol is not IMethodSymbol { TypeArguments.Length: 1 } called) continue;
            var owner = called.ContainingType;
            var rowMethod = IsRuntimeType(owner, "ProcessingEvent")
                            || (called.Name == "Query" && (IsRuntimeType(owner, "Application") || IsRuntimeType(owner, "ProcessApplication")));
            if (!rowMethod) continue;
            if (called.TypeArguments[0] is not INamedTypeSymbol { TypeKind: TypeKind.Class, IsAbstract: false, IsStatic: false, SpecialType: SpecialType.None } row
                || IsRuntimeType(row, "Aggregate") || DerivesFrom(row, "Aggregate") || IsOpen(row) || IsFileLocal(row))
                continue;
            var qualified = FullyQualified(row);
            if (!found.Contains(qualified)) found.Add(qualified);
        }
        return found;
    }

    /// <summary>Whether a type is (or is nested in) a <c>file</c> type, which the generated file cannot name.</summary>
    private static bool IsFileLocal(INamedTypeSymbol type)
    {
        for (var current = type; current is not null; current = current.ContainingType)
            if (current.IsFileLocal) return true;
        return false;
    }

    /// <summary>Whether a type mentions a type parameter (a row type the generated code could not name).</summary>
    private static bool IsOpen(INamedTypeSymbol type)
    {
        for (var current = type; current is not null; current = current.ContainingType)
            foreach (var argument in current.TypeArguments)
                if (argument is ITypeParameterSymbol || (argument is INamedTypeSymbol named && IsOpen(named)) || argument is not INamedTypeSymbol)
                    return true;
        return false;
    }

    private static string? PolicySignatureProblem(IMethodSymbol method)
    {
        if (method.IsStatic) return "is static";
        if (method.IsGenericMethod) return "is generic";
        if (method.IsAsync) return "is async";
        if (!method.ReturnsVoid) return $"returns '{Display(method.ReturnType)}'";
        if (method.Parameters.Length != 2) return $"takes {method.Parameters.Length} parameter(s)";
        if (RefKindProblem(method.Parameters[0], "event") is { } eventProblem) return eventProblem;
        if (!IsRuntimeType(method.Parameters[1].Type, "ProcessingEvent"))
            return $"takes '{Display(method.Parameters[1].Type)}' as its second parameter instead of ProcessDsl.ProcessingEvent";
        return RefKindProblem(method.Parameters[1], "ProcessingEvent");
    }

    /// <summary>
    /// Gathers the parsed policy methods of each class into one application model, reporting a
    /// second policy for a topic the application already handles.
    /// </summary>
    public static IEnumerable<Parsed<ApplicationModel>> GroupApplications(IEnumerable<PolicyMethod> methods)
    {
        foreach (var group in methods.GroupBy(m => m.ClassKey))
        {
            var diagnostics = new List<DiagnosticInfo>();
            var policies = new List<PolicyModel>();
            var rowTypes = new List<string>();
            var byTopic = new Dictionary<string, PolicyModel>();
            var type = group.First().Type;
            var valid = group.All(m => m.Type is not null);
            foreach (var method in group)
            {
                diagnostics.AddRange(method.Diagnostics);
                foreach (var row in method.RowTypes)
                    if (!rowTypes.Contains(row)) rowTypes.Add(row);
                for (var i = 0; i < method.Policies.Count; i++)
                {
                    var policy = method.Policies[i];
                    if (byTopic.TryGetValue(policy.Topic, out var existing))
                    {
                        diagnostics.Add(DiagnosticInfo.Create(
                            DiagnosticDescriptors.DuplicatePolicy, method.PolicyLocations[i],
                            type?.Name ?? WithoutGlobalPrefix(group.Key), WithoutGlobalPrefix(policy.EventType), policy.Topic, existing.MethodName));
                        continue;
                    }
                    byTopic.Add(policy.Topic, policy);
                    policies.Add(policy);
                }
            }
            yield return new Parsed<ApplicationModel>(
                valid && type is not null ? new ApplicationModel(type, policies.ToEquatableArray(), rowTypes.ToEquatableArray()) : null,
                diagnostics.Distinct().ToEquatableArray());
        }
    }

    /// <summary>A fully qualified name as people read it in a message: without <c>global::</c>.</summary>
    private static string WithoutGlobalPrefix(string fullyQualifiedName) =>
        fullyQualifiedName.StartsWith("global::", System.StringComparison.Ordinal)
            ? fullyQualifiedName.Substring("global::".Length)
            : fullyQualifiedName;
}
