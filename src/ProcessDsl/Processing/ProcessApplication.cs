namespace ProcessDsl;

/// <summary>
/// An application that follows upstream applications: it reads their notification logs and reacts
/// to their events in policies (<see cref="PolicyAttribute"/>), and everything a step does (new
/// events, projection rows, the new tracking position) commits in one transaction.
/// </summary>
/// <remarks>
/// Declare process applications <c>partial</c>: the source generator overrides
/// <see cref="HandledTopics"/> and <see cref="DispatchPolicy"/> from the policies, and
/// <see cref="CreateRowTables"/> when they use projection rows.
/// </remarks>
public abstract class ProcessApplication : Application
{
    private static readonly IReadOnlySet<string> s_none = new HashSet<string>();

    /// <summary>The topics this application's policies handle; followers read only these.</summary>
    public virtual IReadOnlySet<string> HandledTopics => s_none;

    /// <summary>
    /// Dispatches one upstream notification to the policy for its topic: the generated override
    /// checks the topic, and only then deserialises the event and calls the policy. Returns false
    /// when no policy handles the topic.
    /// </summary>
    protected virtual bool DispatchPolicy(Notification notification, ProcessingEvent processing) => false;

    internal bool Dispatch(Notification notification, ProcessingEvent processing) => DispatchPolicy(notification, processing);

    /// <summary>
    /// Creates the tables of the projection row types the policies use, if they do not exist yet:
    /// the runners call it once when they start, before any step. The generated override calls
    /// <see cref="CreateRowTable{T}"/> for every row type a <c>[Policy]</c> method passes to
    /// <see cref="ProcessingEvent.Save{T}"/>, <see cref="ProcessingEvent.Delete{T}"/> or a
    /// <c>Query&lt;T&gt;()</c>, so the first step does not pay for creating them, and a row type the
    /// store cannot map fails the start, naming it. Tables of other row types are still created
    /// when a step first writes them.
    /// </summary>
    protected virtual void CreateRowTables()
    {
    }

    /// <summary>Creates the table of <typeparamref name="T"/> in this application's store unless it exists (for <see cref="CreateRowTables"/>).</summary>
    /// <exception cref="InvalidOperationException">The table could not be created; the inner exception says why.</exception>
    protected void CreateRowTable<T>() where T : class
    {
        try
        {
            Store.EnsureRowTable<T>();
        }
        catch (Exception ex) when (!Store.IsTransient(ex) && ex is not OperationCanceledException)
        {
            throw new InvalidOperationException($"Application '{Name}': cannot create the table of projection row type {typeof(T).FullName}: {ex.Message}", ex);
        }
    }

    internal void PrepareRowTables() => CreateRowTables();
}
