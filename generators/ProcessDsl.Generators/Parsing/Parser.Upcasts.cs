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
    /// <summary>Checks one <c>[Upcast]</c> method on its own: where it is declared and its signature (PDSL029, PDSL027).</summary>
    public static EquatableArray<DiagnosticInfo> ParseUpcastMethod(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        var method = (IMethodSymbol)context.TargetSymbol;
        var syntax = (MethodDeclarationSyntax)context.TargetNode;
        var location = LocationInfo.From(syntax.Identifier);
        if (!IsConcreteEvent(method.ContainingType))
            return Single(DiagnosticInfo.Create(DiagnosticDescriptors.UpcastOutsideEvent, location, method.Name, Display(method.ContainingType)));
        if (UpcastSignatureProblem(method) is { } problem)
            return Single(DiagnosticInfo.Create(DiagnosticDescriptors.UpcastSignature, location, method.Name, problem));
        return EquatableArray<DiagnosticInfo>.Empty;
    }

    private static string? UpcastSignatureProblem(IMethodSymbol method)
    {
        if (!method.IsStatic) return "is not static";
        if (method.IsGenericMethod) return "is generic";
        if (method.IsAsync) return "is async";
        if (!method.ReturnsVoid) return $"returns '{Display(method.ReturnType)}'";
        if (method.Parameters.Length != 1) return $"takes {method.Parameters.Length} parameter(s)";
        if (RefKindProblem(method.Parameters[0], "state") is { } refProblem) return refProblem;
        if (!IsJsonObject(method.Parameters[0].Type)) return $"takes '{Display(method.Parameters[0].Type)}' instead of System.Text.Json.Nodes.JsonObject";
        return null;
    }

    private static bool IsJsonObject(ITypeSymbol type) =>
        type is INamedTypeSymbol { Name: "JsonObject", ContainingType: null } named
        && named.ContainingNamespace.ToDisplayString() == "System.Text.Json.Nodes";

    /// <summary>
    /// The event's current version (from <c>[Topic(Version = n)]</c>) and its upcast chain, checked
    /// for PDSL025, 026, 028, 030 and 031. With any problem, the type is registered at version 1
    /// without steps, so the generated registry still compiles and the one real error stands alone.
    /// </summary>
    private static (int Version, EquatableArray<UpcastModel> Upcasts) VersionOf(
        INamedTypeSymbol type, AttributeData? topic, LocationInfo? identifier, List<DiagnosticInfo> diagnostics, CancellationToken cancellationToken)
    {
        var version = 1;
        var versionLocation = identifier;
        if (topic is not null && NamedArgument(topic, "Version") is int declared)
        {
            version = declared;
            versionLocation = NamedArgumentLocation(topic, "Version", cancellationToken) ?? identifier;
        }
        var steps = new List<(int From, IMethodSymbol Method, LocationInfo? Location)>();
        foreach (var method in type.GetMembers().OfType<IMethodSymbol>())
        {
            var attribute = method.GetAttributes().FirstOrDefault(a => IsRuntimeType(a.AttributeClass, "UpcastAttribute"));
            if (attribute is null) continue;
            var from = NamedArgument(attribute, "From") as int? ?? 0;
            var location = NamedArgumentLocation(attribute, "From", cancellationToken) ?? AttributeLocation(attribute, cancellationToken);
            steps.Add((from, method, location));
        }

        var before = diagnostics.Count;
        var display = Display(type);
        if (version < 1)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidVersion, versionLocation, Int(version), display));
            return (1, EquatableArray<UpcastModel>.Empty);
        }
        if (version > 1 && steps.Count == 0)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.VersionWithoutUpcasts, versionLocation, display, Int(version)));

        var byFrom = new Dictionary<int, IMethodSymbol>();
        foreach (var (from, method, location) in steps)
        {
            if (from < 1 || from >= version)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UpcastOutOfRange, location, Int(from), display, Int(version)));
                continue;
            }
            if (byFrom.TryGetValue(from, out var existing))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.DuplicateUpcast, location, display, Int(from), existing.Name));
                continue;
            }
            byFrom.Add(from, method);
        }
        if (steps.Count > 0)
        {
            for (var from = 1; from < version; from++)
            {
                if (!byFrom.ContainsKey(from))
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UpcastGap, versionLocation, display, Int(version), Int(from)));
            }
        }
        // A step with a wrong signature is reported by ParseUpcastMethod; it still fills its place in the chain.
        if (diagnostics.Count > before || byFrom.Values.Any(m => UpcastSignatureProblem(m) is not null))
            return (1, EquatableArray<UpcastModel>.Empty);

        var upcasts = byFrom
            .OrderBy(s => s.Key)
            .Select(s => new UpcastModel(
                Identifier(s.Value.Name),
                s.Value.MetadataName,
                s.Value.DeclaredAccessibility is Accessibility.Public or Accessibility.Internal or Accessibility.ProtectedOrInternal))
            .ToEquatableArray();
        return (version, upcasts);
    }

    private static string Int(int value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static object? NamedArgument(AttributeData attribute, string name)
    {
        foreach (var argument in attribute.NamedArguments)
        {
            if (argument.Key == name) return argument.Value.Value;
        }
        return null;
    }

    /// <summary>Where <c>Name = value</c> is written in an attribute: its value expression.</summary>
    private static LocationInfo? NamedArgumentLocation(AttributeData attribute, string name, CancellationToken cancellationToken)
    {
        if (attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) is not AttributeSyntax syntax) return null;
        var argument = syntax.ArgumentList?.Arguments.FirstOrDefault(a => a.NameEquals?.Name.Identifier.Text == name);
        return argument is null ? null : LocationInfo.From(argument.Expression);
    }
}
