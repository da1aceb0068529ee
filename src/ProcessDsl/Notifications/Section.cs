namespace ProcessDsl;

/// <summary>
/// A section of a notification log: a fixed-size window of the application sequence, linked to the
/// sections before and after it. A full section is archived and never changes.
/// </summary>
/// <param name="Id">The section id, <c>"first,last"</c>.</param>
/// <param name="Items">The notifications in the section, in id order.</param>
/// <param name="PreviousId">The id of the section before, or null for the first section.</param>
/// <param name="NextId">The id of the section after, or null while this section is not full.</param>
public sealed record Section(string Id, IReadOnlyList<Notification> Items, string? PreviousId, string? NextId)
{
    /// <summary>Whether the section is full, so it will never change again.</summary>
    public bool IsArchived => NextId is not null;
}
