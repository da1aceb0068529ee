using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using ProcessDsl.Generators.Diagnostics;
using ProcessDsl.Generators.Model;

namespace ProcessDsl.Generators.Parsing;

/// <summary>
/// Turns attributed syntax into plain models and diagnostics. Nothing it returns holds a symbol,
/// a syntax node or a compilation, so unchanged input compares equal on the next run.
/// </summary>
internal static partial class Parser
{
    internal const string RuntimeNamespace = "ProcessDsl";

    /// <summary>The default topic: namespaces and containing types joined by dots, as <c>EventTopics.DefaultTopicOf</c> does at run time.</summary>
    private static readonly SymbolDisplayFormat TopicFormat = new(
        typeQualificationStyle: SymbolDisplayTypeQualificationStyle.NameAndContainingTypesAndNamespaces,
        genericsOptions: SymbolDisplayGenericsOptions.None);

    private static readonly SymbolDisplayFormat ShortFormat = SymbolDisplayFormat.CSharpShortErrorMessageFormat;

    /// <summary>Whether <paramref name="type"/> is the runtime type <c>ProcessDsl.{name}</c>.</summary>
    internal static bool IsRuntimeType(ITypeSymbol? type, string name) =>
        type is INamedTypeSymbol { ContainingType: null } named
        && named.Name == name
        && named.ContainingNamespace is { Name: RuntimeNamespace, ContainingNamespace.IsGlobalNamespace: true };

    /// <summary>Whether <paramref name="type"/> derives (strictly) from <c>ProcessDsl.{name}</c>.</summary>
    internal static bool DerivesFrom(ITypeSymbol? type, string name)
    {
        for (var current = type?.BaseType; current is not null; current = current.BaseType)
        {
            if (IsRuntimeType(current, name)) return true;
        }
        return false;
    }

    /// <summary>How many base types separate <paramref name="type"/> from <c>DomainEvent</c> (0 for DomainEvent itself).</summary>
    private static int DepthBelowDomainEvent(ITypeSymbol type)
    {
        var depth = 0;
        for (var current = type; current is not null && !IsRuntimeType(current, "DomainEvent"); current = current.BaseType)
            depth++;
        return depth;
    }

    private static bool IsGenericOrInGeneric(INamedTypeSymbol type)
    {
        for (var current = type; current is not null; current = current.ContainingType)
        {
            if (current.IsGenericType) return true;
        }
        return false;
    }

    /// <summary>A concrete event: a non-abstract, non-generic class deriving from DomainEvent.</summary>
    internal static bool IsConcreteEvent(ITypeSymbol type) =>
        type is INamedTypeSymbol { TypeKind: TypeKind.Class, IsAbstract: false } named
        && !IsGenericOrInGeneric(named)
        && DerivesFrom(named, "DomainEvent");

    internal static string FullyQualified(ITypeSymbol type) => type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);

    internal static string Display(ITypeSymbol type) => type.ToDisplayString(ShortFormat);

    /// <summary>The topic an event type is stored under: its <c>[Topic]</c>, or its full name.</summary>
    internal static string TopicOf(INamedTypeSymbol eventType) =>
        TopicAttributeOf(eventType) is { } attribute && SingleArgument(attribute) is string topic
            ? topic
            : eventType.ToDisplayString(TopicFormat);

    /// <summary>The value of an attribute's only constructor argument, or null.</summary>
    private static object? SingleArgument(AttributeData attribute) =>
        attribute.ConstructorArguments.Length == 1 && attribute.ConstructorArguments[0].Kind != TypedConstantKind.Array
            ? attribute.ConstructorArguments[0].Value
            : null;

    private static AttributeData? TopicAttributeOf(INamedTypeSymbol eventType) =>
        eventType.GetAttributes().FirstOrDefault(a => IsRuntimeType(a.AttributeClass, "TopicAttribute"));

    /// <summary>A method name as it must be written in C# (keywords escaped).</summary>
    internal static string Identifier(string name) =>
        SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None || SyntaxFacts.GetContextualKeywordKind(name) is SyntaxKind.AwaitKeyword
            ? "@" + name
            : name;

    /// <summary>The identifier of a type's first declaration: where class-level diagnostics point.</summary>
    private static LocationInfo? IdentifierLocation(INamedTypeSymbol type, CancellationToken cancellationToken)
    {
        foreach (var reference in type.DeclaringSyntaxReferences)
        {
            if (reference.GetSyntax(cancellationToken) is BaseTypeDeclarationSyntax declaration)
                return LocationInfo.From(declaration.Identifier);
        }
        return LocationInfo.From(type.Locations.FirstOrDefault());
    }

    /// <summary>Where the <c>typeof(...)</c> argument at <paramref name="index"/> of an attribute is written.</summary>
    private static LocationInfo? ArgumentLocation(AttributeData attribute, int index, int expectedCount, CancellationToken cancellationToken)
    {
        if (attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) is not AttributeSyntax syntax) return null;
        var arguments = syntax.ArgumentList?.Arguments;
        if (arguments is { } list && list.Count == expectedCount && index < list.Count)
            return LocationInfo.From(list[index].Expression);
        return LocationInfo.From(syntax);
    }

    private static LocationInfo? AttributeLocation(AttributeData attribute, CancellationToken cancellationToken) =>
        LocationInfo.From(attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken));

    /// <summary>
    /// The partial declaration that generated members go into, or null (with PDSL001) when the type or
    /// one of its containing types is not partial.
    /// </summary>
    private static TypeDeclarationModel? DeclarationOf(
        INamedTypeSymbol type, string reason, List<DiagnosticInfo> diagnostics, CancellationToken cancellationToken, string ownModifiers = "")
    {
        var chain = new List<INamedTypeSymbol>();
        for (var current = type; current is not null; current = current.ContainingType) chain.Insert(0, current);

        var parts = new List<TypeDeclarationPart>(chain.Count);
        var ok = true;
        foreach (var current in chain)
        {
            if (!IsPartial(current, cancellationToken))
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.TypeMustBePartial,
                    IdentifierLocation(current, cancellationToken),
                    current.Name,
                    SymbolEqualityComparer.Default.Equals(current, type) ? reason : $"it contains '{type.Name}', which {reason}"));
                ok = false;
                continue;
            }
            var name = Identifier(current.Name);
            if (current.TypeParameters.Length > 0)
                name += "<" + string.Join(", ", current.TypeParameters.Select(p => Identifier(p.Name))) + ">";
            parts.Add(new TypeDeclarationPart(
                SymbolEqualityComparer.Default.Equals(current, type) ? ownModifiers : "",
                KeywordOf(current),
                name));
        }
        if (!ok) return null;

        var ns = type.ContainingNamespace is { IsGlobalNamespace: false } containing ? containing.ToDisplayString() : "";
        var stem = string.Join(".", chain.Select(t => t.Arity > 0 ? $"{t.Name}_{t.Arity}" : t.Name));
        if (ns.Length > 0) stem = ns + "." + stem;
        return new TypeDeclarationModel(ns, parts.ToEquatableArray(), FullyQualified(type), stem);
    }

    /// <summary>
    /// PDSL024 when the type itself declares one of <paramref name="members"/>, which the generator
    /// is about to write (the two would clash). Returns whether there was such a member.
    /// </summary>
    private static bool DeclaresGeneratedMember(
        INamedTypeSymbol type, string what, List<DiagnosticInfo> diagnostics, CancellationToken cancellationToken, params string[] members)
    {
        var found = false;
        foreach (var name in members)
        {
            foreach (var member in type.GetMembers(name))
            {
                if (member.IsImplicitlyDeclared || member.DeclaringSyntaxReferences.Length == 0) continue;
                var syntax = member.DeclaringSyntaxReferences[0].GetSyntax(cancellationToken);
                var location = syntax switch
                {
                    MethodDeclarationSyntax method => LocationInfo.From(method.Identifier),
                    PropertyDeclarationSyntax property => LocationInfo.From(property.Identifier),
                    _ => LocationInfo.From(member.Locations.FirstOrDefault()),
                };
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MemberAlreadyDeclared, location, type.Name, name, what));
                found = true;
            }
        }
        return found;
    }

    private static bool IsPartial(INamedTypeSymbol type, CancellationToken cancellationToken)
    {
        foreach (var reference in type.DeclaringSyntaxReferences)
        {
            if (reference.GetSyntax(cancellationToken) is TypeDeclarationSyntax declaration
                && declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
                return true;
        }
        return false;
    }

    private static string KeywordOf(INamedTypeSymbol type) => type switch
    {
        { TypeKind: TypeKind.Struct, IsRecord: true } => "record struct",
        { TypeKind: TypeKind.Struct } => "struct",
        { TypeKind: TypeKind.Interface } => "interface",
        { IsRecord: true } => "record",
        _ => "class",
    };

    /// <summary>Why a type cannot be named from elsewhere in its assembly, or null when it can.</summary>
    private static string? InaccessibilityOf(INamedTypeSymbol type)
    {
        for (var current = type; current is not null; current = current.ContainingType)
        {
            var problem = current.DeclaredAccessibility switch
            {
                Accessibility.Private => "private",
                Accessibility.Protected => "protected",
                Accessibility.ProtectedAndInternal => "private protected",
                _ => current.IsFileLocal ? "file-local" : null,
            };
            if (problem is null) continue;
            return SymbolEqualityComparer.Default.Equals(current, type) ? problem : $"nested in {problem} type '{current.Name}'";
        }
        return null;
    }

    /// <summary>Whether a value of <paramref name="source"/> can be passed where <paramref name="destination"/> is expected without conversion code.</summary>
    private static bool Converts(Compilation compilation, ITypeSymbol source, ITypeSymbol destination)
    {
        var conversion = compilation.ClassifyCommonConversion(source, destination);
        return conversion.IsIdentity || (conversion.IsImplicit && conversion.IsReference);
    }

    private static string? RefKindProblem(IParameterSymbol parameter, string what) => parameter.RefKind switch
    {
        RefKind.None => parameter.IsParams ? $"takes its {what} as 'params'" : null,
        RefKind.Ref => $"takes its {what} by 'ref'",
        RefKind.Out => $"takes its {what} as 'out'",
        _ => $"takes its {what} as 'in'",
    };
}
