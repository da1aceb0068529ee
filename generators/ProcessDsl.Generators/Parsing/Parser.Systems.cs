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
    /// <summary>Parses a <c>[ProcessSystem]</c> class and its <c>[Pipeline]</c>s.</summary>
    public static Parsed<SystemModel> ParseSystem(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        var type = (INamedTypeSymbol)context.TargetSymbol;
        var syntax = (ClassDeclarationSyntax)context.TargetNode;
        var compilation = context.SemanticModel.Compilation;
        var diagnostics = new List<DiagnosticInfo>();
        var info = new List<DiagnosticInfo>(); // reported, but they do not stop the definition
        var identifier = LocationInfo.From(syntax.Identifier);

        var declaration = DeclarationOf(type, "it is a [ProcessSystem]", diagnostics, cancellationToken, ownModifiers: "static");
        if (!type.IsStatic || type.IsGenericType || type.ContainingType is not null)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.SystemClassMustBeStatic, identifier, type.Name));
        var declaresDefinition = DeclaresGeneratedMember(type, "[Pipeline] attributes", diagnostics, cancellationToken, "Definition");
        var systemShapeOk = type.IsStatic && !type.IsGenericType && type.ContainingType is null;

        var pipelines = type.GetAttributes().Where(a => IsRuntimeType(a.AttributeClass, "PipelineAttribute")).ToList();
        if (pipelines.Count == 0)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.SystemWithoutPipelines, identifier, type.Name));

        var applications = new List<INamedTypeSymbol>();
        var upstreams = new Dictionary<INamedTypeSymbol, List<INamedTypeSymbol>>(SymbolEqualityComparer.Default);
        var usable = new HashSet<INamedTypeSymbol>(SymbolEqualityComparer.Default);
        var byName = new Dictionary<string, INamedTypeSymbol>(System.StringComparer.Ordinal);
        var builtByContainer = new HashSet<INamedTypeSymbol>(SymbolEqualityComparer.Default);
        var broken = false;

        foreach (var pipeline in pipelines)
        {
            var entries = pipeline.ConstructorArguments.Length == 1 && pipeline.ConstructorArguments[0].Kind == TypedConstantKind.Array
                ? pipeline.ConstructorArguments[0].Values.Select(v => v.Value as INamedTypeSymbol).ToList()
                : new List<INamedTypeSymbol?>();
            if (entries.Count < 2)
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.PipelineTooShort, AttributeLocation(pipeline, cancellationToken) ?? identifier, type.Name, entries.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                broken = true;
            }

            INamedTypeSymbol? previous = null;
            for (var i = 0; i < entries.Count; i++)
            {
                var entry = entries[i];
                var location = ArgumentLocation(pipeline, i, entries.Count, cancellationToken) ?? identifier;
                if (entry is null || entry.TypeKind == TypeKind.Error)
                {
                    broken = true; // the compiler reports the bad typeof
                    previous = null;
                    continue;
                }
                if (!DerivesFrom(entry, "Application"))
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.PipelineEntryNotApplication, location, Display(entry)));
                    broken = true;
                    previous = null;
                    continue;
                }
                if (i > 0 && !DerivesFrom(entry, "ProcessApplication"))
                {
                    diagnostics.Add(DiagnosticInfo.Create(
                        DiagnosticDescriptors.PipelineFollowerNotProcessApplication, location, Display(entry), previous is null ? "the entry before it" : previous.Name));
                    broken = true;
                }

                if (!applications.Contains(entry, SymbolEqualityComparer.Default))
                {
                    if (byName.TryGetValue(entry.Name, out var sameName))
                    {
                        diagnostics.Add(DiagnosticInfo.Create(
                            DiagnosticDescriptors.DuplicateApplicationName, location, Display(entry), Display(sameName), entry.Name, type.Name));
                        broken = true;
                    }
                    else
                    {
                        byName.Add(entry.Name, entry);
                    }
                    if (ConstructionProblem(entry, type, compilation) is { } problem)
                    {
                        if (problem.Length == 0)
                        {
                            info.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ApplicationBuiltByContainer, location, Display(entry)));
                            builtByContainer.Add(entry);
                        }
                        else
                        {
                            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ApplicationNotConstructible, location, Display(entry), problem));
                            broken = true;
                        }
                    }
                    applications.Add(entry);
                    upstreams.Add(entry, new List<INamedTypeSymbol>());
                    usable.Add(entry);
                }
                if (previous is not null && !upstreams[entry].Contains(previous, SymbolEqualityComparer.Default))
                    upstreams[entry].Add(previous);
                previous = entry;
            }
        }

        if (declaration is null || diagnostics.Count > 0 || broken)
        {
            // A definition that throws keeps code using Definition compiling, so the real error stands alone.
            var stub = declaration is not null && systemShapeOk && !declaresDefinition
                ? new SystemModel(declaration, type.Name, EquatableArray<SystemApplicationModel>.Empty, HasErrors: true)
                : null;
            return new Parsed<SystemModel>(stub, diagnostics.Concat(info).ToEquatableArray());
        }

        var models = new List<SystemApplicationModel>();
        foreach (var application in applications)
        {
            var topics = PoliciesOf(application, cancellationToken)
                .Select(p => TopicOf(p.EventType))
                .Distinct()
                .OrderBy(t => t, System.StringComparer.Ordinal);
            models.Add(new SystemApplicationModel(
                application.Name,
                FullyQualified(application),
                upstreams[application].Select(u => u.Name).ToEquatableArray(),
                topics.ToEquatableArray(),
                HasFactory: !builtByContainer.Contains(application)));
        }
        return new Parsed<SystemModel>(new SystemModel(declaration, type.Name, models.ToEquatableArray(), HasErrors: false), info.ToEquatableArray());
    }

    /// <summary>
    /// Why the system cannot create the application, or null when it can; empty when it has no
    /// parameterless constructor the system can call but a public one with parameters, so a
    /// container builds it (PDSL032, an Info).
    /// </summary>
    private static string? ConstructionProblem(INamedTypeSymbol application, INamedTypeSymbol system, Compilation compilation)
    {
        if (application.IsAbstract) return "is abstract";
        if (application.IsGenericType) return "is generic";
        var constructor = application.InstanceConstructors.FirstOrDefault(c => c.Parameters.Length == 0 || c.Parameters.All(p => p.IsOptional || p.IsParams));
        if (constructor is not null && compilation.IsSymbolAccessibleWithin(constructor, system) && constructor.Parameters.Length == 0) return null;
        if (application.InstanceConstructors.Any(c => c.DeclaredAccessibility == Accessibility.Public && c.Parameters.Length > 0)) return "";
        if (constructor is null) return "has no public constructor";
        return "has a parameterless constructor that the system class cannot call";
    }

    /// <summary>A policy found on an application type through its symbol (so also for applications of referenced assemblies).</summary>
    private sealed record PolicyOfApplication(IMethodSymbol Method, INamedTypeSymbol EventType, AttributeData Attribute);

    private static IEnumerable<PolicyOfApplication> PoliciesOf(INamedTypeSymbol application, CancellationToken cancellationToken)
    {
        foreach (var member in application.GetMembers())
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (member is not IMethodSymbol method) continue;
            foreach (var attribute in method.GetAttributes())
            {
                if (IsRuntimeType(attribute.AttributeClass, "PolicyAttribute")
                    && SingleArgument(attribute) is INamedTypeSymbol eventType
                    && IsConcreteEvent(eventType))
                    yield return new PolicyOfApplication(method, eventType, attribute);
            }
        }
    }
}
