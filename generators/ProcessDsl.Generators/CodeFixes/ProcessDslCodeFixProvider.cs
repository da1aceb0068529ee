using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Formatting;
using Microsoft.CodeAnalysis.Simplification;
using ProcessDsl.Generators.Parsing;

namespace ProcessDsl.Generators.CodeFixes;

/// <summary>
/// Code fixes for the commonest mistakes: make a type <c>partial</c> (PDSL001), give a policy the
/// signature <c>void M(TEvent e, ProcessingEvent processing)</c> (PDSL005), pin an event's current
/// topic with <c>[Topic]</c> (PDSL033) and add a missing <c>[Apply]</c> method (PDSL034).
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(ProcessDslCodeFixProvider))]
[Shared]
public sealed class ProcessDslCodeFixProvider : CodeFixProvider
{
    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create("PDSL001", "PDSL005", "PDSL033", "PDSL034");

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null) return;
        foreach (var diagnostic in context.Diagnostics)
        {
            var node = root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true);
            switch (diagnostic.Id)
            {
                case "PDSL001" when node.FirstAncestorOrSelf<TypeDeclarationSyntax>() is { } type:
                    Register(context, diagnostic, $"Make '{type.Identifier.Text}' partial", "PDSL001", ct => MakePartial(context.Document, root, type));
                    break;
                case "PDSL005" when node.FirstAncestorOrSelf<MethodDeclarationSyntax>() is { } method:
                    Register(context, diagnostic, "Use the signature 'void M(TEvent e, ProcessingEvent processing)'", "PDSL005", ct => FixPolicySignature(context.Document, method, ct));
                    break;
                case "PDSL033" when node.FirstAncestorOrSelf<TypeDeclarationSyntax>() is { } eventType:
                    Register(context, diagnostic, "Pin the current topic with [Topic(\"...\")]", "PDSL033", ct => PinTopic(context.Document, eventType, ct));
                    break;
                case "PDSL034" when node.FirstAncestorOrSelf<ObjectCreationExpressionSyntax>() is { } creation:
                    Register(context, diagnostic, "Add an [Apply] method for the event", "PDSL034", ct => AddApply(context.Document, creation, ct));
                    break;
            }
        }
    }

    /// <summary>The document's own line ending, so a fix never mixes CRLF into an LF file.</summary>
    private static SyntaxTrivia NewLineOf(SyntaxNode root)
    {
        var newline = root.DescendantTrivia().FirstOrDefault(t => t.IsKind(SyntaxKind.EndOfLineTrivia));
        return newline == default ? SyntaxFactory.CarriageReturnLineFeed : newline;
    }

    private static void Register(CodeFixContext context, Diagnostic diagnostic, string title, string key, System.Func<CancellationToken, Task<Document>> fix) =>
        context.RegisterCodeFix(CodeAction.Create(title, fix, equivalenceKey: key), diagnostic);

    private static Task<Document> MakePartial(Document document, SyntaxNode root, TypeDeclarationSyntax type)
    {
        var partial = SyntaxFactory.Token(SyntaxKind.PartialKeyword).WithTrailingTrivia(SyntaxFactory.Space);
        TypeDeclarationSyntax updated;
        if (type.Modifiers.Count == 0)
        {
            // No modifiers: 'partial' goes before the keyword and takes over its leading trivia.
            var keyword = type.Keyword;
            updated = type
                .WithKeyword(keyword.WithLeadingTrivia(SyntaxFactory.TriviaList()))
                .WithModifiers(SyntaxFactory.TokenList(partial.WithLeadingTrivia(keyword.LeadingTrivia)));
        }
        else
        {
            updated = type.WithModifiers(type.Modifiers.Add(partial));
        }
        return Task.FromResult(document.WithSyntaxRoot(root.ReplaceNode(type, updated)));
    }

    private static async Task<Document> FixPolicySignature(Document document, MethodDeclarationSyntax method, CancellationToken cancellationToken)
    {
        var model = await document.GetSemanticModelAsync(cancellationToken).ConfigureAwait(false);
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        if (model is null || root is null || model.GetDeclaredSymbol(method, cancellationToken) is not { } symbol) return document;

        // The event type: the first [Policy(typeof(X))], else whatever the first parameter already takes.
        var eventType = symbol.GetAttributes()
            .Where(a => Parser.IsRuntimeType(a.AttributeClass, "PolicyAttribute"))
            .Select(a => a.ConstructorArguments.FirstOrDefault().Value as ITypeSymbol)
            .FirstOrDefault(t => t is not null);
        var eventTypeSyntax = eventType is not null
            ? SyntaxFactory.ParseTypeName(eventType.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat)).WithAdditionalAnnotations(Simplifier.Annotation)
            : method.ParameterList.Parameters.FirstOrDefault()?.Type ?? SyntaxFactory.ParseTypeName("global::ProcessDsl.DomainEvent").WithAdditionalAnnotations(Simplifier.Annotation);
        var eventName = method.ParameterList.Parameters.FirstOrDefault()?.Identifier.Text ?? "e";
        var processingName = symbol.Parameters.Length > 1 && Parser.IsRuntimeType(symbol.Parameters[1].Type, "ProcessingEvent") ? symbol.Parameters[1].Name : "processing";
        if (processingName == eventName) processingName = "processing";

        var parameters = SyntaxFactory.ParameterList(SyntaxFactory.SeparatedList(new[]
        {
            SyntaxFactory.Parameter(SyntaxFactory.Identifier(eventName)).WithType(eventTypeSyntax.WithoutTrivia().WithTrailingTrivia(SyntaxFactory.Space)),
            SyntaxFactory.Parameter(SyntaxFactory.Identifier(processingName))
                .WithType(SyntaxFactory.ParseTypeName("global::ProcessDsl.ProcessingEvent").WithAdditionalAnnotations(Simplifier.Annotation).WithTrailingTrivia(SyntaxFactory.Space)),
        })).WithTriviaFrom(method.ParameterList);

        var modifiers = SyntaxFactory.TokenList(method.Modifiers.Where(m => !m.IsKind(SyntaxKind.StaticKeyword) && !m.IsKind(SyntaxKind.AsyncKeyword)));
        var updated = method
            .WithModifiers(modifiers)
            .WithTypeParameterList(null)
            .WithConstraintClauses(default)
            .WithReturnType(SyntaxFactory.PredefinedType(SyntaxFactory.Token(SyntaxKind.VoidKeyword)).WithTriviaFrom(method.ReturnType))
            .WithParameterList(parameters);
        if (method.Modifiers.Count > 0 && modifiers.Count == 0)
            updated = updated.WithReturnType(updated.ReturnType.WithLeadingTrivia(method.Modifiers[0].LeadingTrivia));
        if (method.TypeParameterList is not null)
            updated = updated.WithIdentifier(method.Identifier.WithTrailingTrivia(method.TypeParameterList.GetTrailingTrivia()));
        var newRoot = root.ReplaceNode(method, updated.WithAdditionalAnnotations(Formatter.Annotation));
        return await Simplifier.ReduceAsync(document.WithSyntaxRoot(newRoot), Simplifier.Annotation, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    private static async Task<Document> PinTopic(Document document, TypeDeclarationSyntax eventType, CancellationToken cancellationToken)
    {
        var model = await document.GetSemanticModelAsync(cancellationToken).ConfigureAwait(false);
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        if (model is null || root is null || model.GetDeclaredSymbol(eventType, cancellationToken) is not INamedTypeSymbol symbol) return document;

        var attribute = SyntaxFactory.Attribute(
            SyntaxFactory.ParseName("global::ProcessDsl.Topic").WithAdditionalAnnotations(Simplifier.Annotation),
            SyntaxFactory.AttributeArgumentList(SyntaxFactory.SingletonSeparatedList(SyntaxFactory.AttributeArgument(
                SyntaxFactory.LiteralExpression(SyntaxKind.StringLiteralExpression, SyntaxFactory.Literal(Parser.TopicOf(symbol)))))));
        var leading = eventType.GetLeadingTrivia();
        var indentation = leading.LastOrDefault(t => t.IsKind(SyntaxKind.WhitespaceTrivia));
        var list = SyntaxFactory.AttributeList(SyntaxFactory.SingletonSeparatedList(attribute))
            .WithLeadingTrivia(leading)
            .WithTrailingTrivia(NewLineOf(root));
        var updated = eventType.WithoutLeadingTrivia();
        updated = updated.WithLeadingTrivia(indentation == default ? SyntaxFactory.TriviaList() : SyntaxFactory.TriviaList(indentation));
        updated = updated.WithAttributeLists(updated.AttributeLists.Insert(0, list));
        var newRoot = root.ReplaceNode(eventType, updated);
        var newDocument = document.WithSyntaxRoot(newRoot);
        newDocument = await Simplifier.ReduceAsync(newDocument, Simplifier.Annotation, cancellationToken: cancellationToken).ConfigureAwait(false);
        return newDocument;
    }

    private static async Task<Document> AddApply(Document document, ObjectCreationExpressionSyntax creation, CancellationToken cancellationToken)
    {
        var model = await document.GetSemanticModelAsync(cancellationToken).ConfigureAwait(false);
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        var aggregate = creation.FirstAncestorOrSelf<TypeDeclarationSyntax>();
        if (model is null || root is null || aggregate is null || model.GetTypeInfo(creation, cancellationToken).Type is not { } eventType) return document;

        var eventTypeName = eventType.ToMinimalDisplayString(model, creation.SpanStart);
        // An empty body: the fix adds the method the table needs; what the event changes is the author's to write.
        var method = (MethodDeclarationSyntax)SyntaxFactory.ParseMemberDeclaration(
            $"[global::ProcessDsl.Apply] void When({eventTypeName} e)\n{{\n}}\n")!;
        method = method
            .WithAttributeLists(SyntaxFactory.SingletonList(method.AttributeLists[0].WithAttributes(SyntaxFactory.SingletonSeparatedList(
                method.AttributeLists[0].Attributes[0].WithName(method.AttributeLists[0].Attributes[0].Name.WithAdditionalAnnotations(Simplifier.Annotation))))))
            .WithAdditionalAnnotations(Formatter.Annotation);
        // A blank line before the new method.
        method = method.WithLeadingTrivia(NewLineOf(root));
        var newRoot = root.ReplaceNode(aggregate, aggregate.AddMembers(method));
        var newDocument = document.WithSyntaxRoot(newRoot);
        newDocument = await Simplifier.ReduceAsync(newDocument, Simplifier.Annotation, cancellationToken: cancellationToken).ConfigureAwait(false);
        return await Formatter.FormatAsync(newDocument, Formatter.Annotation, cancellationToken: cancellationToken).ConfigureAwait(false);
    }
}
