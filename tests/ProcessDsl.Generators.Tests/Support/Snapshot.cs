using System.Runtime.CompilerServices;

namespace ProcessDsl.Generators.Tests.Support;

/// <summary>
/// Compares generated source with checked-in files under <c>Snapshots/</c>. A difference fails the
/// test until the file is updated on purpose: run the tests with <c>UPDATE_SNAPSHOTS=1</c> and review the diff.
/// </summary>
internal static class Snapshot
{
    public static void Match(string name, IReadOnlyDictionary<string, string> sources, [CallerFilePath] string callerPath = "")
    {
        var directory = Path.Combine(Path.GetDirectoryName(callerPath)!, "Snapshots", name);
        var update = Environment.GetEnvironmentVariable("UPDATE_SNAPSHOTS") == "1";
        if (update)
        {
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
            Directory.CreateDirectory(directory);
            foreach (var (hint, text) in sources) File.WriteAllText(Path.Combine(directory, hint), text);
            return;
        }

        Assert.True(Directory.Exists(directory), $"No snapshots at {directory}; run with UPDATE_SNAPSHOTS=1 to create them.");
        var expectedFiles = Directory.GetFiles(directory).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(expectedFiles, sources.Keys.Order(StringComparer.Ordinal).ToArray());
        foreach (var (hint, text) in sources)
        {
            var expected = File.ReadAllText(Path.Combine(directory, hint)).ReplaceLineEndings("\n");
            Assert.True(expected == text, $"Generated {hint} differs from Snapshots/{name}/{hint} (UPDATE_SNAPSHOTS=1 rewrites it):\n{text}");
        }
    }
}
