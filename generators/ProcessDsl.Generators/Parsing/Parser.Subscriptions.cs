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
    /// <summary>Parses one static method carrying one or more <c>[SubscribeTo(typeof(E))]</c>.</summary>
    public static SubscribeMethod ParseSubscribeMethod(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        var method = (IMethodSymbol)context.TargetSymbol;
        var syntax = (MethodDeclarationSyntax)context.TargetNode;
        var type = method.ContainingType;
        var diagnostics = new List<DiagnosticInfo>();
        var location = LocationInfo.From(syntax.Identifier);

        var declaration = DeclarationOf(type, "it has [SubscribeTo] methods", diagnostics, cancellationToken);
        var problem = SubscriberSignatureProblem(method);
        if (problem is not null)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.SubscriberSignature, location, method.Name, problem));

        var subscriptions = new List<SubscriptionModel>();
        foreach (var attribute in context.Attributes)
        {
            if (SingleArgument(attribute) is not ITypeSymbol eventType || eventType.TypeKind == TypeKind.Error)
                continue;
            var argument = ArgumentLocation(attribute, 0, 1, cancellationToken) ?? location;
            // Subscriptions dispatch on the exact runtime type, so an abstract type would never be called.
            if (!IsConcreteEvent(eventType))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NotAConcreteEvent, argument, Display(eventType), "SubscribeTo"));
                continue;
            }
            if (problem is not null) continue;
            var parameter = method.Parameters[0].Type;
            if (!Converts(context.SemanticModel.Compilation, eventType, parameter))
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.ParameterNotAssignable, argument, method.Name, Display(parameter), Display(eventType)));
                continue;
            }
            var subscription = new SubscriptionModel(FullyQualified(eventType), Identifier(method.Name));
            if (!subscriptions.Contains(subscription)) subscriptions.Add(subscription);
        }
        return new SubscribeMethod(
            FullyQualified(type), problem is null ? declaration : null, subscriptions.ToEquatableArray(), diagnostics.ToEquatableArray());
    }

    private static string? SubscriberSignatureProblem(IMethodSymbol method)
    {
        if (!method.IsStatic) return "is not static";
        if (method.IsGenericMethod) return "is generic";
        if (method.IsAsync) return "is async";
        if (!method.ReturnsVoid) return $"returns '{Display(method.ReturnType)}'";
        if (method.Parameters.Length != 1) return $"takes {method.Parameters.Length} parameter(s)";
        if (RefKindProblem(method.Parameters[0], "event") is { } refProblem) return refProblem;
        // The generated module initializer lives in the class, and module initializers may not be in generic or private types.
        if (IsGenericOrInGeneric(method.ContainingType)) return $"is declared in generic type '{method.ContainingType.Name}'";
        if (InaccessibilityOf(method.ContainingType) is { } access) return $"is declared in a type that is {access}";
        return null;
    }

    /// <summary>Gathers the subscriptions of each class.</summary>
    public static IEnumerable<Parsed<SubscriberModel>> GroupSubscribers(IEnumerable<SubscribeMethod> methods)
    {
        foreach (var group in methods.GroupBy(m => m.ClassKey))
        {
            var type = group.First().Type;
            var valid = group.All(m => m.Type is not null);
            var subscriptions = group.SelectMany(m => m.Subscriptions).Distinct();
            yield return new Parsed<SubscriberModel>(
                valid && type is not null ? new SubscriberModel(type, subscriptions.ToEquatableArray()) : null,
                group.SelectMany(m => m.Diagnostics).Distinct().ToEquatableArray());
        }
    }
}
