namespace ProcessDsl;

/// <summary>One application of a system: its name, type, factory, the applications it follows and the topics its policies handle.</summary>
public sealed class ApplicationDefinition
{
    /// <summary>Creates the definition (normally generated).</summary>
    /// <param name="name">The application's name (its class name).</param>
    /// <param name="type">The application's class.</param>
    /// <param name="factory">Creates the application; null when its constructor needs services (see <see cref="Factory"/>).</param>
    /// <param name="upstreams">The applications it follows.</param>
    /// <param name="topics">The topics its policies handle.</param>
    public ApplicationDefinition(string name, Type type, Func<Application>? factory, IReadOnlyList<string> upstreams, IReadOnlyList<string> topics)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(upstreams);
        ArgumentNullException.ThrowIfNull(topics);
        Name = Identifiers.ValidateApplicationName(name);
        Type = type;
        Factory = factory;
        Upstreams = upstreams.Distinct(StringComparer.Ordinal).ToArray();
        Topics = topics;
    }

    /// <summary>The application's name (its class name).</summary>
    public string Name { get; }

    /// <summary>The application's class.</summary>
    public Type Type { get; }

    /// <summary>
    /// Creates a new instance of the application with its parameterless constructor; null when the
    /// application has only constructors with parameters (services from a container), so whoever
    /// hosts the system builds it: <c>AddProcessDsl</c> from the container, or a runner's
    /// <c>RunnerOptions.ApplicationFactory</c>.
    /// </summary>
    public Func<Application>? Factory { get; }

    /// <summary>The applications this one follows, each once.</summary>
    public IReadOnlyList<string> Upstreams { get; }

    /// <summary>The topics this application's policies handle.</summary>
    public IReadOnlyList<string> Topics { get; }

    /// <summary>Whether this application follows any other.</summary>
    public bool IsFollower => Upstreams.Count > 0;

    /// <inheritdoc/>
    public override string ToString() => Upstreams.Count == 0 ? Name : $"{Name} <- {string.Join(", ", Upstreams)}";
}
