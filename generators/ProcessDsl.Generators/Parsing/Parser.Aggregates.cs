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
    /// <summary>Parses one <c>[Apply]</c> method of an aggregate.</summary>
    public static ApplyMethod ParseApplyMethod(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        var method = (IMethodSymbol)context.TargetSymbol;
        var syntax = (MethodDeclarationSyntax)context.TargetNode;
        var type = method.ContainingType;
        var diagnostics = new List<DiagnosticInfo>();

        var declaration = DeclarationOf(type, "it has [Apply] methods", diagnostics, cancellationToken);
        if (!DerivesFrom(type, "Aggregate"))
        {
            diagnostics.Add(DiagnosticInfo.Create(
                DiagnosticDescriptors.ApplyClassMustDeriveFromAggregate, IdentifierLocation(type, cancellationToken), type.Name));
            declaration = null;
        }
        else if (DeclaresGeneratedMember(type, "[Apply] methods", diagnostics, cancellationToken, "ApplyEvent"))
        {
            declaration = null;
        }

        var location = LocationInfo.From(syntax.Identifier);
        ApplyMethodModel? model = null;
        if (ApplySignatureProblem(method) is { } problem)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ApplySignature, location, method.Name, problem));
        }
        else
        {
            var eventType = method.Parameters[0].Type;
            model = new ApplyMethodModel(FullyQualified(eventType), DepthBelowDomainEvent(eventType), Identifier(method.Name));
        }
        return new ApplyMethod(FullyQualified(type), declaration, model, location, diagnostics.ToEquatableArray());
    }

    private static string? ApplySignatureProblem(IMethodSymbol method)
    {
        if (method.IsStatic) return "is static";
        if (method.IsGenericMethod) return "is generic";
        if (method.IsAsync) return "is async";
        if (!method.ReturnsVoid) return $"returns '{Display(method.ReturnType)}'";
        if (method.Parameters.Length != 1) return $"takes {method.Parameters.Length} parameter(s)";
        if (RefKindProblem(method.Parameters[0], "event") is { } refProblem) return refProblem;
        var type = method.Parameters[0].Type;
        if (!IsRuntimeType(type, "DomainEvent") && !DerivesFrom(type, "DomainEvent"))
            return $"takes '{Display(type)}', which does not derive from ProcessDsl.DomainEvent";
        return null;
    }

    /// <summary>Gathers the apply methods of each aggregate, reporting a second method for the same event type.</summary>
    public static IEnumerable<Parsed<AggregateModel>> GroupAggregates(IEnumerable<ApplyMethod> methods)
    {
        foreach (var group in methods.GroupBy(m => m.ClassKey))
        {
            var diagnostics = new List<DiagnosticInfo>();
            var applies = new List<ApplyMethodModel>();
            var type = group.First().Type;
            var valid = group.All(m => m.Type is not null);
            foreach (var method in group)
            {
                diagnostics.AddRange(method.Diagnostics);
                if (method.Method is not { } apply) continue;
                if (applies.FirstOrDefault(a => a.EventType == apply.EventType) is { } existing)
                {
                    diagnostics.Add(DiagnosticInfo.Create(
                        DiagnosticDescriptors.DuplicateApply, method.MethodLocation,
                        type?.Name ?? WithoutGlobalPrefix(group.Key), WithoutGlobalPrefix(apply.EventType), existing.MethodName));
                    continue;
                }
                applies.Add(apply);
            }
            // Deeper (more derived) event types first, so a base type's case never hides a derived one.
            var ordered = applies
                .Select((a, index) => (a, index))
                .OrderByDescending(x => x.a.Depth)
                .ThenBy(x => x.index)
                .Select(x => x.a);
            yield return new Parsed<AggregateModel>(
                valid && type is not null ? new AggregateModel(type, ordered.ToEquatableArray()) : null,
                diagnostics.Distinct().ToEquatableArray());
        }
    }
}
