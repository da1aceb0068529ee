using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using ProcessDsl.Generators.Diagnostics;
using ProcessDsl.Generators.Parsing;

namespace ProcessDsl.Generators.Analyzers;

/// <summary>
/// The checks that need more than one attributed declaration: whole-system reachability (PDSL021),
/// mistakes at call sites in method bodies (PDSL034-037) and the opt-in unpinned-topic warning
/// (PDSL033). They run as an analyzer, not in the generator's pipeline, so an edit never re-runs
/// them to regenerate code.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ProcessDslAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        DiagnosticDescriptors.PolicyNeverFed,
        DiagnosticDescriptors.TopicNotPinned,
        DiagnosticDescriptors.TriggeredWithoutApply,
        DiagnosticDescriptors.AggregateSavedAsRow,
        DiagnosticDescriptors.SaveInsidePolicy,
        DiagnosticDescriptors.RowWithoutPrimaryKey);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterSymbolAction(AnalyzeType, SymbolKind.NamedType);
        context.RegisterOperationAction(AnalyzeInvocation, OperationKind.Invocation);
    }

    private static void AnalyzeType(SymbolAnalysisContext context)
    {
        var type = (INamedTypeSymbol)context.Symbol;
        if (type.GetAttributes().Any(a => Parser.IsRuntimeType(a.AttributeClass, "ProcessSystemAttribute")))
        {
            foreach (var diagnostic in Parser.UnfedPolicies(type, context.Compilation, context.CancellationToken))
                context.ReportDiagnostic(diagnostic.ToDiagnostic(context.Compilation));
        }
        if (Parser.IsConcreteEvent(type)
            && !type.GetAttributes().Any(a => Parser.IsRuntimeType(a.AttributeClass, "TopicAttribute"))
            && type.Locations.FirstOrDefault(l => l.IsInSource) is { } location)
        {
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.TopicNotPinned, location, Parser.Display(type), Parser.TopicOf(type)));
        }
    }

    private static void AnalyzeInvocation(OperationAnalysisContext context)
    {
        var invocation = (IInvocationOperation)context.Operation;
        var method = invocation.TargetMethod;
        if (method.Name is "Save" or "Delete" && Parser.IsRuntimeType(method.ContainingType, "ProcessingEvent") && invocation.Arguments.Length == 1)
        {
            RowChecks(context, method, invocation.Arguments[0].Value);
        }
        else if (method.Name == "Save" && Parser.IsRuntimeType(method.ContainingType, "Application")
            && invocation.Instance is IInstanceReferenceOperation
            && context.ContainingSymbol is IMethodSymbol policy
            && policy.GetAttributes().Any(a => Parser.IsRuntimeType(a.AttributeClass, "PolicyAttribute")))
        {
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.SaveInsidePolicy, invocation.Syntax.GetLocation(), policy.Name));
        }
        else if (method.Name == "Trigger" && Parser.IsRuntimeType(method.ContainingType, "Aggregate")
            && invocation.Instance is IInstanceReferenceOperation
            && invocation.Arguments.Length == 1)
        {
            TriggerCheck(context, invocation.Arguments[0].Value);
        }
    }

    /// <summary>PDSL035 for an aggregate passed as a row, PDSL037 for a row type of this compilation without a primary key.</summary>
    private static void RowChecks(OperationAnalysisContext context, IMethodSymbol method, IOperation argument)
    {
        var value = Unwrapped(argument);
        var rowType = value.Type ?? method.TypeArguments.FirstOrDefault();
        if (rowType is null || rowType.TypeKind == TypeKind.Error) return;
        if (Parser.IsRuntimeType(rowType, "Aggregate") || Parser.DerivesFrom(rowType, "Aggregate"))
        {
            context.ReportDiagnostic(Diagnostic.Create(
                DiagnosticDescriptors.AggregateSavedAsRow, value.Syntax.GetLocation(), method.Name, Parser.Display(rowType), value.Syntax.ToString()));
            return;
        }
        // Rows are mapped by their static type argument; only a class declared here can be checked for a key.
        if (method.TypeArguments.FirstOrDefault() is INamedTypeSymbol { TypeKind: TypeKind.Class } row
            && row.DeclaringSyntaxReferences.Length > 0
            && !HasPrimaryKey(row))
        {
            context.ReportDiagnostic(Diagnostic.Create(
                DiagnosticDescriptors.RowWithoutPrimaryKey, value.Syntax.GetLocation(), method.Name, Parser.Display(row)));
        }
    }

    private static bool HasPrimaryKey(INamedTypeSymbol row)
    {
        for (var current = row; current is not null && current.SpecialType != SpecialType.System_Object; current = current.BaseType)
        {
            foreach (var member in current.GetMembers())
            {
                if (member is not (IPropertySymbol or IFieldSymbol)) continue;
                foreach (var attribute in member.GetAttributes())
                {
                    if (!IsLinqToDbMapping(attribute.AttributeClass)) continue;
                    if (attribute.AttributeClass!.Name == "PrimaryKeyAttribute") return true;
                    if (attribute.AttributeClass.Name == "ColumnAttribute"
                        && attribute.NamedArguments.Any(a => a.Key == "IsPrimaryKey" && a.Value.Value is true))
                        return true;
                }
            }
        }
        return false;
    }

    private static bool IsLinqToDbMapping(INamedTypeSymbol? attribute) =>
        attribute?.ContainingNamespace is { Name: "Mapping", ContainingNamespace: { Name: "LinqToDB", ContainingNamespace.IsGlobalNamespace: true } };

    /// <summary>
    /// PDSL034: <c>Trigger(new X(...))</c> in a sealed aggregate deriving directly from Aggregate that
    /// has [Apply] methods, none of which takes X. The created event of <c>Create&lt;T&gt;(id, e)</c> is
    /// not checked: it often only marks the start of the stream. An aggregate without any [Apply] is
    /// left alone (it keeps no state), and so is one with a base aggregate of its own (which may apply X).
    /// </summary>
    private static void TriggerCheck(OperationAnalysisContext context, IOperation argument)
    {
        var value = Unwrapped(argument);
        if (value.Type is not INamedTypeSymbol { IsSealed: true } eventType || !Parser.IsConcreteEvent(eventType)) return;
        var aggregate = context.ContainingSymbol.ContainingType;
        if (aggregate is not { IsSealed: true } || !Parser.IsRuntimeType(aggregate.BaseType, "Aggregate")) return;
        var applies = aggregate.GetMembers()
            .OfType<IMethodSymbol>()
            .Where(m => m.Parameters.Length == 1 && m.GetAttributes().Any(a => Parser.IsRuntimeType(a.AttributeClass, "ApplyAttribute")))
            .ToList();
        if (applies.Count == 0) return;
        if (applies.Any(m => Accepts(context.Compilation, eventType, m.Parameters[0].Type))) return;
        context.ReportDiagnostic(Diagnostic.Create(
            DiagnosticDescriptors.TriggeredWithoutApply, value.Syntax.GetLocation(), aggregate.Name, Parser.Display(eventType)));
    }

    private static bool Accepts(Compilation compilation, ITypeSymbol source, ITypeSymbol destination)
    {
        var conversion = compilation.ClassifyCommonConversion(source, destination);
        return conversion.IsIdentity || (conversion.IsImplicit && conversion.IsReference);
    }

    private static IOperation Unwrapped(IOperation operation)
    {
        while (operation is IConversionOperation { IsImplicit: true } conversion) operation = conversion.Operand;
        return operation;
    }
}
