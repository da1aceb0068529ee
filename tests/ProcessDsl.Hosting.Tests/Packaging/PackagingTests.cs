using System.IO.Compression;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using ProcessDsl.Hosting.Tests.Support;
using ProcessDsl.Tests.Shared;

namespace ProcessDsl.Hosting.Tests.Packaging;

[Collection(LocalPackagesCollection.Name)]
public sealed partial class PackagingTests(LocalPackages packages)
{
    [Fact]
    public void Every_package_under_src_has_a_license_a_readme_a_repository_and_symbols()
    {
        Assert.Contains(packages.Projects, p => p.EndsWith("ProcessDsl.Hosting.csproj", StringComparison.Ordinal));
        foreach (var project in packages.Projects)
        {
            var id = Path.GetFileNameWithoutExtension(project);
            var package = Path.Combine(packages.Folder, $"{id}.{packages.Version}.nupkg");
            Assert.True(File.Exists(package), $"{id} was not packed as {package}");
            Assert.True(File.Exists(Path.ChangeExtension(package, ".snupkg")), $"{id} has no symbol package");

            using var zip = ZipFile.OpenRead(package);
            var nuspec = XDocument.Load(zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open());
            XNamespace ns = nuspec.Root!.Name.Namespace;
            var metadata = nuspec.Root.Element(ns + "metadata")!;
            Assert.Equal(packages.Version, metadata.Element(ns + "version")!.Value);
            var license = metadata.Element(ns + "license")!;
            Assert.Equal("expression", license.Attribute("type")!.Value);
            Assert.Equal("MIT", license.Value);
            Assert.Equal("README.md", metadata.Element(ns + "readme")!.Value);
            Assert.Contains(zip.Entries, e => e.FullName == "README.md");
            var repository = metadata.Element(ns + "repository");
            Assert.NotNull(repository);
            Assert.Matches("^[0-9a-f]{40}$", repository.Attribute("commit")!.Value); // Source Link knows the commit; the url comes from the git remote when there is one
            Assert.False(string.IsNullOrWhiteSpace(metadata.Element(ns + "description")?.Value), $"{id} has no description");
        }
        using (var runtime = ZipFile.OpenRead(Path.Combine(packages.Folder, $"ProcessDsl.{packages.Version}.nupkg")))
            Assert.Contains(runtime.Entries, e => e.FullName == "analyzers/dotnet/cs/ProcessDsl.Generators.dll");
    }

    [Fact]
    public void A_pack_without_a_fresh_version_suffix_is_refused_saying_how()
    {
        var project = packages.Projects.Single(p => p.EndsWith("ProcessDsl.AspNetCore.csproj", StringComparison.Ordinal));
        var (exitCode, output) = DotnetCli.RunAllowingFailure(packages.Root, TimeSpan.FromMinutes(10), "pack", project, "-c", "Release",
            "-o", Path.Combine(packages.Root, "refused"), "--artifacts-path", Path.Combine(packages.Root, "artifacts"));
        Assert.NotEqual(0, exitCode);
        Assert.Contains("pack with a version that is new each time", output, StringComparison.Ordinal);
        Assert.Contains("-p:VersionSuffix=local.", output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(packages.Root, "refused")) && Directory.EnumerateFiles(Path.Combine(packages.Root, "refused"), "*.nupkg").Any());
    }

    [Fact]
    public void The_getting_started_programs_run_as_written_in_a_fresh_project_from_the_local_packages()
    {
        var doc = File.ReadAllText(Path.Combine(DotnetCli.RepositoryRoot, "docs", "getting-started.md"));
        var standalone = Block(doc, "standalone");
        var hosted = Block(doc, "hosted");
        const string typesStart = "// Events are records nested in their aggregate";
        var types = standalone.IndexOf(typesStart, StringComparison.Ordinal);
        Assert.True(types > 0, $"docs/getting-started.md: the standalone program no longer has the line '{typesStart}' that starts its types; the hosted program reuses them");

        var folder = packages.NewConsumerFolder("shop");
        var minutes = TimeSpan.FromMinutes(10);
        DotnetCli.Run(folder, minutes, "new", "console");
        DotnetCli.Run(folder, minutes, "add", "package", "ProcessDsl", "--version", packages.Version);

        File.WriteAllText(Path.Combine(folder, "Program.cs"), standalone);
        var output = DotnetCli.Run(folder, minutes, "run", "-c", "Release");
        Assert.Equal(3, ReservedTrue().Matches(output).Count);
        Assert.Contains("orders log: 6 notifications", output, StringComparison.Ordinal);

        DotnetCli.Run(folder, minutes, "add", "package", "ProcessDsl.Hosting", "--version", packages.Version);
        File.WriteAllText(Path.Combine(folder, "Program.cs"), hosted + "\n" + standalone[types..]);
        output = DotnetCli.Run(folder, minutes, "run", "-c", "Release");
        Assert.Contains("reserved = True, health = Healthy", output, StringComparison.Ordinal);

        // It really came from the local folder, at this run's version.
        var assets = File.ReadAllText(Path.Combine(folder, "obj", "project.assets.json"));
        Assert.Contains($"\"ProcessDsl.Hosting/{packages.Version}\"", assets, StringComparison.Ordinal);
        Assert.Contains($"\"ProcessDsl/{packages.Version}\"", assets, StringComparison.Ordinal);
    }

    [Fact]
    public void The_getting_started_program_publishes_with_native_aot_from_the_local_packages_given_its_event_contracts()
    {
        // What docs/aot.md asks of a program: a JsonSerializerContext for its events, given at start-up.
        // The package's buildTransitive targets keep LinqToDB and the program whole.
        var standalone = Block(File.ReadAllText(Path.Combine(DotnetCli.RepositoryRoot, "docs", "getting-started.md")), "standalone");
        const string start = "using ProcessDsl;\n";
        Assert.StartsWith(start, standalone, StringComparison.Ordinal);
        var program = "using System.Text.Json.Serialization;\n" + start +
            "EventTopics.AddJsonTypeInfoResolver(ShopJson.Default);\n" + standalone[start.Length..] + """

            [JsonSerializable(typeof(Order.Placed))]
            [JsonSerializable(typeof(Order.Reserved))]
            [JsonSerializable(typeof(Reservation.Made))]
            internal sealed partial class ShopJson : JsonSerializerContext;
            """;
        var folder = packages.NewConsumerFolder("shop-aot");
        var minutes = TimeSpan.FromMinutes(20);
        DotnetCli.Run(folder, minutes, "new", "console");
        DotnetCli.Run(folder, minutes, "add", "package", "ProcessDsl", "--version", packages.Version);
        File.WriteAllText(Path.Combine(folder, "Program.cs"), program);
        DotnetCli.Run(folder, minutes, ["publish", "-c", "Release", "-r", NativeAotPublish.RuntimeIdentifier, "-p:PublishAot=true",
            "-o", Path.Combine(folder, "native"), .. NativeAotPublish.LinkerArguments]);

        var native = Path.Combine(folder, "native", NativeAotPublish.Program("shop-aot"));
        Assert.True(File.Exists(native), $"No native program at {native}.");
        Assert.False(File.Exists(Path.Combine(folder, "native", "linq2db.dll")), "A Native AOT publish has its dependencies compiled in.");
        var (code, output, errors) = NativeAotPublish.Run(native, [], folder, TimeSpan.FromMinutes(2));
        Assert.True(code == 0, $"{native} exited {code}:\n{output}{errors}");
        Assert.Equal(3, ReservedTrue().Matches(output).Count);
        Assert.Contains("orders log: 6 notifications", output, StringComparison.Ordinal);
    }

    /// <summary>The C# block that follows <c>&lt;!-- getting-started: NAME --&gt;</c> in the doc.</summary>
    private static string Block(string doc, string name)
    {
        var marker = $"<!-- getting-started: {name} -->";
        var at = doc.IndexOf(marker, StringComparison.Ordinal);
        Assert.True(at >= 0, $"docs/getting-started.md has no '{marker}'");
        var match = CSharpBlock().Match(doc, at + marker.Length);
        Assert.True(match.Success, $"docs/getting-started.md: no ```csharp block after '{marker}'");
        return match.Groups["code"].Value;
    }

    [GeneratedRegex(@"\G\s*```csharp\n(?<code>.*?)\n```", RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();

    [GeneratedRegex(@"reserved = True")]
    private static partial Regex ReservedTrue();
}
