using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using ProcessDsl.Generators.Diagnostics;
using ProcessDsl.Generators.Model;

namespace ProcessDsl.Generators.Parsing;

internal static partial class Parser
{
    /// <summary>Cheap syntactic filter: a class or record class with a base list may be an event type.</summary>
    public static bool MayBeEventType(SyntaxNode node, CancellationToken cancellationToken) =>
        node is ClassDeclarationSyntax { BaseList: not null }
            or RecordDeclarationSyntax { BaseList: not null, ClassOrStructKeyword.RawKind: not (int)SyntaxKind.StructKeyword };

    /// <summary>Parses a type declaration that may declare a domain event; null when it does not.</summary>
    public static ParsedEventType? ParseEventType(GeneratorSyntaxContext context, CancellationToken cancellationToken)
    {
        var syntax = (TypeDeclarationSyntax)context.Node;
        if (context.SemanticModel.GetDeclaredSymbol(syntax, cancellationToken) is not INamedTypeSymbol type
            || type.IsAbstract
            || !DerivesFrom(type, "DomainEvent"))
            return null;
        // A partial event declared in several places is parsed once, at its first declaration with a base list.
        var first = type.DeclaringSyntaxReferences
            .Select(r => r.GetSyntax(cancellationToken))
            .OfType<TypeDeclarationSyntax>()
            .FirstOrDefault(d => d.BaseList is not null);
        if (first is not null && first != syntax) return null;

        var identifier = LocationInfo.From(syntax.Identifier);
        if (IsGenericOrInGeneric(type))
        {
            return new ParsedEventType(null, null, Single(DiagnosticInfo.Create(DiagnosticDescriptors.GenericEventType, identifier, Display(type))));
        }
        if (InaccessibilityOf(type) is { } access)
        {
            return new ParsedEventType(null, null, Single(DiagnosticInfo.Create(DiagnosticDescriptors.InaccessibleEventType, identifier, Display(type), access)));
        }

        var topic = TopicOf(type);
        var topicLocation = identifier;
        var attribute = TopicAttributeOf(type);
        if (attribute is not null)
        {
            topicLocation = ArgumentLocation(attribute, 0, 1, cancellationToken) ?? identifier;
            var problem = string.IsNullOrWhiteSpace(topic) ? "empty" : topic.Length > 400 ? "longer than 400 characters" : null;
            if (problem is not null)
            {
                var shown = topic.Length > 40 ? topic.Substring(0, 40) + "..." : topic;
                return new ParsedEventType(null, null, Single(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidTopic, topicLocation, shown, Display(type), problem)));
            }
        }
        var diagnostics = new List<DiagnosticInfo>();
        var (version, upcasts) = VersionOf(type, attribute, identifier, diagnostics, cancellationToken);
        return new ParsedEventType(
            new EventTypeModel(FullyQualified(type), topic, attribute is not null, version, upcasts),
            topicLocation,
            diagnostics.ToEquatableArray());
    }

    private static EquatableArray<DiagnosticInfo> Single(DiagnosticInfo diagnostic) => new[] { diagnostic }.ToEquatableArray();

    /// <summary>The event types to register, ordered by name: each type once, and one type per topic (see <see cref="TopicPrecedence"/>).</summary>
    public static EquatableArray<EventTypeModel> RegistrableEvents(IEnumerable<EventTypeModel> events)
    {
        var byTopic = new HashSet<string>(System.StringComparer.Ordinal);
        return TopicPrecedence(events.Distinct(), e => e)
            .Where(e => byTopic.Add(e.Topic))
            .OrderBy(e => e.FullyQualifiedName, System.StringComparer.Ordinal)
            .ToEquatableArray();
    }

    /// <summary>
    /// Who keeps a shared topic: a type with its default topic before one that claims it with
    /// <c>[Topic]</c>, then by name. The others get PDSL011 and are not registered.
    /// </summary>
    private static IEnumerable<T> TopicPrecedence<T>(IEnumerable<T> items, System.Func<T, EventTypeModel> model) =>
        items.OrderBy(i => model(i).ExplicitTopic).ThenBy(i => model(i).FullyQualifiedName, System.StringComparer.Ordinal);

    /// <summary>PDSL011 for every event type whose topic a type of higher precedence already has.</summary>
    public static EquatableArray<DiagnosticInfo> DuplicateTopics(IEnumerable<ParsedEventType> events)
    {
        var diagnostics = new List<DiagnosticInfo>();
        var byTopic = new Dictionary<string, EventTypeModel>(System.StringComparer.Ordinal);
        var unique = events
            .Where(e => e.Model is not null)
            .GroupBy(e => e.Model!.FullyQualifiedName)
            .Select(g => g.First());
        foreach (var parsed in TopicPrecedence(unique, e => e.Model!))
        {
            var model = parsed.Model!;
            if (byTopic.TryGetValue(model.Topic, out var existing))
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.DuplicateTopic, parsed.TopicLocation, model.Topic, WithoutGlobalPrefix(model.FullyQualifiedName), WithoutGlobalPrefix(existing.FullyQualifiedName)));
                continue;
            }
            byTopic.Add(model.Topic, model);
        }
        return diagnostics.ToEquatableArray();
    }
}
