using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using ProcessDsl.Generators;
using ProcessDsl.Generators.Analyzers;

namespace ProcessDsl.Generators.Tests.Support;

/// <summary>Compiles sources against .NET 10 and the real ProcessDsl runtime, and runs the generator over them.</summary>
internal static class GeneratorRun
{
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    internal static readonly ImmutableArray<MetadataReference> References =
    [
        .. Basic.Reference.Assemblies.Net100.References.All,
        MetadataReference.CreateFromFile(typeof(ProcessDsl.Aggregate).Assembly.Location),
        MetadataReference.CreateFromFile(typeof(LinqToDB.DataOptions).Assembly.Location),
        MetadataReference.CreateFromFile(typeof(Microsoft.Extensions.Logging.ILogger).Assembly.Location),
    ];

    public static CSharpCompilation Compilation(params string[] sources) =>
        Compilation(sources.Select((text, i) => (Path: $"Source{i}.cs", Text: text)).ToArray());

    public static CSharpCompilation Compilation(params (string Path, string Text)[] sources) =>
        CSharpCompilation.Create(
            "Generated" + Guid.NewGuid().ToString("N"),
            sources.Select(s => CSharpSyntaxTree.ParseText(s.Text, ParseOptions, path: s.Path)),
            References,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    public static GeneratorDriver Driver(IIncrementalGenerator? generator = null, bool trackSteps = false) =>
        CSharpGeneratorDriver.Create(
            [(generator ?? new ProcessDslGenerator()).AsSourceGenerator()],
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: trackSteps));

    /// <summary>Runs the generator once over the sources.</summary>
    public static Result Run(params string[] sources) => Run(Compilation(sources));

    public static Result Run(CSharpCompilation compilation, IIncrementalGenerator? generator = null)
    {
        var driver = Driver(generator).RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        return new Result(compilation, output, generatorDiagnostics, driver.GetRunResult());
    }

    internal sealed record Result(
        Compilation Input,
        Compilation Output,
        ImmutableArray<Diagnostic> GeneratorDiagnostics,
        GeneratorDriverRunResult RunResult)
    {
        /// <summary>Generated files by hint name.</summary>
        public IReadOnlyDictionary<string, string> Sources =>
            RunResult.Results.Single().GeneratedSources.ToDictionary(s => s.HintName, s => s.SourceText.ToString());

        /// <summary>What <see cref="ProcessDslAnalyzer"/> reports on the compilation including generated code (enabled rules only).</summary>
        public IReadOnlyList<Diagnostic> AnalyzerDiagnostics =>
            Output.WithAnalyzers([new ProcessDslAnalyzer()]).GetAnalyzerDiagnosticsAsync().GetAwaiter().GetResult();

        /// <summary>Everything ProcessDsl reports: the generator's diagnostics, then the analyzer's.</summary>
        public IReadOnlyList<Diagnostic> ProcessDslDiagnostics => [.. GeneratorDiagnostics, .. AnalyzerDiagnostics];

        /// <summary>Errors and warnings of the compilation including generated code (the generator's own diagnostics excluded).</summary>
        public IReadOnlyList<Diagnostic> CompilationProblems =>
            Output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
    }
}
