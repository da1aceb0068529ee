using System.Globalization;
using System.Xml.Linq;
using ProcessDsl.Hosting.Tests.Support;

namespace ProcessDsl.Hosting.Tests.Packaging;

/// <summary>
/// Packs every package under src/ once, into a fresh folder, with a version no cache has seen
/// (outside the repository's own bin and obj folders).
/// </summary>
public sealed class LocalPackages : IDisposable
{
    public LocalPackages()
    {
        Root = Path.Combine(Path.GetTempPath(), "processdsl-packages-" + Guid.NewGuid().ToString("N")[..10]);
        Folder = Path.Combine(Root, "packages");
        Directory.CreateDirectory(Folder);
        Suffix = "test." + DateTime.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture) + "." + Random.Shared.Next(1000, 9999).ToString(CultureInfo.InvariantCulture);
        var prefix = XDocument.Load(Path.Combine(DotnetCli.RepositoryRoot, "Directory.Build.props")).Descendants("VersionPrefix").Single().Value;
        Version = prefix + "-" + Suffix;

        Projects = Directory.GetFiles(Path.Combine(DotnetCli.RepositoryRoot, "src"), "*.csproj", SearchOption.AllDirectories)
            .Where(p => File.ReadAllText(p).Contains("<IsPackable>true</IsPackable>", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToArray();
        // One solution of just the packages: one build of the shared projects instead of one per package.
        var solutionFolder = Path.Combine(Root, "solution");
        Directory.CreateDirectory(solutionFolder);
        DotnetCli.Run(solutionFolder, TimeSpan.FromMinutes(2), "new", "sln", "-n", "packages", "--format", "sln");
        DotnetCli.Run(solutionFolder, TimeSpan.FromMinutes(2), ["sln", "packages.sln", "add", .. Projects]);
        DotnetCli.Run(solutionFolder, TimeSpan.FromMinutes(15), "pack", "packages.sln", "-c", "Release", "-o", Folder,
            "--artifacts-path", Path.Combine(Root, "artifacts"), "-p:VersionSuffix=" + Suffix);
    }

    public string Root { get; }

    /// <summary>The folder the packages are in (a NuGet source).</summary>
    public string Folder { get; }

    public string Suffix { get; }

    public string Version { get; }

    public IReadOnlyList<string> Projects { get; }

    /// <summary>A new project folder outside the repository whose nuget.config adds the local packages to the usual sources.</summary>
    public string NewConsumerFolder(string name)
    {
        var folder = Path.Combine(Root, name);
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="processdsl-local" value="{Folder}" />
              </packageSources>
            </configuration>
            """);
        return folder;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

[CollectionDefinition(Name)]
public sealed class LocalPackagesCollection : ICollectionFixture<LocalPackages>
{
    public const string Name = "local packages";
}
