namespace ProcessDsl;

/// <summary>
/// A system of applications and who follows whom, as declared by <see cref="PipelineAttribute"/>s
/// and compiled by the source generator into <c>YourSystem.Definition</c>. Runners take it.
/// </summary>
public sealed class SystemDefinition
{
    private readonly Dictionary<string, ApplicationDefinition> _byName;
    private readonly Dictionary<string, ApplicationDefinition[]> _followersOf;

    /// <summary>Creates and checks a definition (normally generated).</summary>
    /// <exception cref="ArgumentException">Two applications share a name, or an application follows one that is not in the system.</exception>
    public SystemDefinition(string name, IReadOnlyList<ApplicationDefinition> applications)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(applications);
        Name = name;
        Applications = applications;
        _byName = new Dictionary<string, ApplicationDefinition>(StringComparer.Ordinal);
        foreach (var app in applications)
            if (!_byName.TryAdd(app.Name, app))
                throw new ArgumentException($"System '{name}' has two applications named '{app.Name}'.", nameof(applications));
        foreach (var app in applications)
            foreach (var upstream in app.Upstreams)
                if (!_byName.ContainsKey(upstream))
                    throw new ArgumentException($"In system '{name}', '{app.Name}' follows '{upstream}', which is not an application of the system.", nameof(applications));
        Followers = applications.Where(a => a.IsFollower).Select(a => a.Name).ToArray();
        Leaders = applications.Where(a => applications.Any(f => f.Upstreams.Contains(a.Name))).Select(a => a.Name).ToArray();
        Topics = applications.SelectMany(a => a.Topics).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        // Asked on every save and step: worked out once.
        _followersOf = new Dictionary<string, ApplicationDefinition[]>(StringComparer.Ordinal);
        foreach (var app in applications)
            _followersOf[app.Name] = applications.Where(a => a.Upstreams.Contains(app.Name, StringComparer.Ordinal)).ToArray();
    }

    /// <summary>The system's name (the class that declares it).</summary>
    public string Name { get; }

    /// <summary>Every application of the system, each once.</summary>
    public IReadOnlyList<ApplicationDefinition> Applications { get; }

    /// <summary>The applications that some other application follows.</summary>
    public IReadOnlyList<string> Leaders { get; }

    /// <summary>The applications that follow some other application.</summary>
    public IReadOnlyList<string> Followers { get; }

    /// <summary>The union of the topics the system's policies handle.</summary>
    public IReadOnlyList<string> Topics { get; }

    /// <summary>The application with this name.</summary>
    /// <exception cref="KeyNotFoundException">No application has this name.</exception>
    public ApplicationDefinition this[string applicationName] =>
        _byName.TryGetValue(applicationName, out var app)
            ? app
            : throw new KeyNotFoundException($"System '{Name}' has no application '{applicationName}'. It has: {string.Join(", ", _byName.Keys)}.");

    /// <summary>The applications that follow <paramref name="applicationName"/> (none for a name that is not in the system).</summary>
    public IEnumerable<ApplicationDefinition> FollowersOf(string applicationName) =>
        _followersOf.TryGetValue(applicationName, out var followers) ? Array.AsReadOnly(followers) : [];

    /// <summary>The applications that follow <paramref name="applicationName"/>, as a list (the same each time).</summary>
    internal IReadOnlyList<ApplicationDefinition> FollowerList(string applicationName) =>
        _followersOf.TryGetValue(applicationName, out var followers) ? followers : [];
}
