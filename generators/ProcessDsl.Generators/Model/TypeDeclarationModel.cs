namespace ProcessDsl.Generators.Model;

/// <summary>
/// Where generated members go: a partial declaration of a user type, with its namespace and every
/// containing type (outermost first, the type itself last) so nested types can be reopened.
/// </summary>
/// <param name="Namespace">The namespace, empty for the global namespace.</param>
/// <param name="Declarations">Outermost first: e.g. <c>partial class Outer</c>, then <c>partial record Inner</c>.</param>
/// <param name="FullyQualifiedName">The type as <c>global::Ns.Outer.Inner</c>.</param>
/// <param name="HintStem">A file-name-safe, unique stem for hint names, e.g. <c>Ns.Outer.Inner</c>.</param>
internal sealed record TypeDeclarationModel(
    string Namespace,
    EquatableArray<TypeDeclarationPart> Declarations,
    string FullyQualifiedName,
    string HintStem)
{
    public string Name => Declarations[Declarations.Count - 1].Name;
}

/// <summary>One level of a type declaration: the keyword (<c>class</c>, <c>record</c>, ...) and the name with type parameters.</summary>
internal sealed record TypeDeclarationPart(string Modifiers, string Keyword, string Name);
