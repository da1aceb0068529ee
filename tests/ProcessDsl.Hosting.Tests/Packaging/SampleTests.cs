using System.Xml.Linq;
using ProcessDsl.Hosting.Tests.Support;

namespace ProcessDsl.Hosting.Tests.Packaging;

/// <summary>
/// Every sample under samples/ builds when its folder is copied out of the repository alone: it
/// then takes the ProcessDsl packages (here the local packs) instead of the projects, and the other
/// packages at the versions of its own Directory.Packages.props.
/// </summary>
[Collection(LocalPackagesCollection.Name)]
public sealed class SamplesOutsideTheRepositoryTests(LocalPackages packages)
{
    [Fact]
    public void Every_sample_builds_when_copied_out_of_the_repository_alone()
    {
        var samples = SampleFolders.All();
        Assert.Contains(samples, s => Path.GetFileName(s) == "Orders");
        var minutes = TimeSpan.FromMinutes(10);
        var failures = new List<string>();
        string? orders = null;
        foreach (var sample in samples)
        {
            var name = Path.GetFileName(sample);
            var folder = packages.NewConsumerFolder(Path.Combine("samples", name));
            CopyWithoutBuildOutput(sample, folder);
            var (exitCode, output) = DotnetCli.RunAllowingFailure(folder, minutes, "build", "-c", "Release");
            if (exitCode != 0)
            {
                failures.Add($"{name}: dotnet build -c Release (in {folder}) exited with {exitCode}:\n{output}");
                continue;
            }
            // It really came from the local packs, at this run's version, and from no project.
            var assets = File.ReadAllText(Path.Combine(folder, "obj", "project.assets.json"));
            if (!assets.Contains($"\"ProcessDsl/{packages.Version}\"", StringComparison.Ordinal))
                failures.Add($"{name}: obj/project.assets.json does not name ProcessDsl/{packages.Version}");
            if (assets.Contains("\"type\": \"project\"", StringComparison.Ordinal))
                failures.Add($"{name}: obj/project.assets.json has a project reference");
            if (name == "Orders") orders = folder;
        }
        Assert.True(failures.Count == 0, string.Join("\n\n", failures));

        var dll = Path.Combine(orders!, "bin", "Release", "net10.0", "Orders.dll");
        var run = DotnetCli.Run(orders!, minutes, dll, "--orders", "50", "--store", "memory", "--no-progress");
        Assert.Contains("orders=50 paid=50", run, StringComparison.Ordinal);
    }

    /// <summary>The sample's files as a user would copy them: everything but its build output.</summary>
    private static void CopyWithoutBuildOutput(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from))
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (var directory in Directory.EnumerateDirectories(from))
        {
            var name = Path.GetFileName(directory);
            if (name is "bin" or "obj") continue;
            Directory.CreateDirectory(Path.Combine(to, name));
            CopyWithoutBuildOutput(directory, Path.Combine(to, name));
        }
    }
}

/// <summary>
/// A sample copied out of the repository takes its package versions from its own
/// Directory.Packages.props: they must be the repository's, so the two builds cannot drift apart.
/// </summary>
public sealed class SamplePackageVersionTests
{
    [Fact]
    public void Every_sample_names_the_repository_versions_of_its_packages_for_builds_outside_it()
    {
        var root = DotnetCli.RepositoryRoot;
        var rootVersions = XDocument.Load(Path.Combine(root, "Directory.Packages.props")).Descendants("PackageVersion")
            .ToDictionary(Include, e => e.Attribute("Version")!.Value, StringComparer.Ordinal);
        var prefix = XDocument.Load(Path.Combine(root, "Directory.Build.props")).Descendants("VersionPrefix").Single().Value;
        var problems = new List<string>();
        var samples = SampleFolders.All();
        Assert.NotEmpty(samples);
        foreach (var sample in samples)
        {
            var name = Path.GetFileName(sample);
            var file = Path.Combine(sample, "Directory.Packages.props");
            if (!File.Exists(file))
            {
                problems.Add($"{name}: no Directory.Packages.props (the versions it takes when copied out of the repository)");
                continue;
            }
            var props = XDocument.Load(file);
            var processDslVersion = props.Descendants("ProcessDslVersion").SingleOrDefault()?.Value;
            if (processDslVersion != prefix + "-*")
                problems.Add($"{name}: ProcessDslVersion is '{processDslVersion}', not '{prefix}-*' (VersionPrefix {prefix} in Directory.Build.props)");
            var versions = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var item in props.Descendants("PackageVersion"))
            {
                var id = Include(item);
                var version = item.Attribute("Version")!.Value;
                versions[id] = version;
                if (IsProcessDsl(id))
                {
                    if (version != "$(ProcessDslVersion)") problems.Add($"{name}: {id} is at '{version}', not $(ProcessDslVersion)");
                }
                else if (!rootVersions.TryGetValue(id, out var rootVersion))
                    problems.Add($"{name}: {id} has no version in the repository's Directory.Packages.props");
                else if (version != rootVersion)
                    problems.Add($"{name}: {id} is at {version}, the repository at {rootVersion}");
            }

            var project = XDocument.Load(Directory.GetFiles(sample, "*.csproj").Single());
            var references = project.Descendants("PackageReference").Select(Include).ToList();
            foreach (var id in references.Where(id => !versions.ContainsKey(id)))
                problems.Add($"{name}: references {id}, which has no version in its Directory.Packages.props");
            // The ProcessDsl packages it takes outside are the projects it references inside.
            var projects = project.Descendants("ProjectReference").Select(Include)
                .Where(p => p.StartsWith("../../src/", StringComparison.Ordinal))
                .Select(p => Path.GetFileNameWithoutExtension(p)).Order(StringComparer.Ordinal);
            var processDslPackages = references.Where(IsProcessDsl).Order(StringComparer.Ordinal);
            if (!projects.SequenceEqual(processDslPackages))
                problems.Add($"{name}: references the projects [{string.Join(", ", projects)}] inside the repository but the packages [{string.Join(", ", processDslPackages)}] outside");
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    private static string Include(XElement item) => item.Attribute("Include")!.Value;

    private static bool IsProcessDsl(string id) => id == "ProcessDsl" || id.StartsWith("ProcessDsl.", StringComparison.Ordinal);
}

internal static class SampleFolders
{
    /// <summary>Every folder under samples/ with a project in it.</summary>
    public static IReadOnlyList<string> All() =>
        Directory.GetDirectories(Path.Combine(DotnetCli.RepositoryRoot, "samples"))
            .Where(d => Directory.EnumerateFiles(d, "*.csproj").Any())
            .Order(StringComparer.Ordinal)
            .ToArray();
}
