namespace ProcessDsl;

/// <summary>No aggregate with the given id is stored in the application.</summary>
public sealed class AggregateNotFoundException(string application, Guid id)
    : KeyNotFoundException($"Application '{application}' has no aggregate {id}.")
{
    /// <summary>The application asked.</summary>
    public string Application { get; } = application;

    /// <summary>The id asked for.</summary>
    public Guid AggregateId { get; } = id;
}
