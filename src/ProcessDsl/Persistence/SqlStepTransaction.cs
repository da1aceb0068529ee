using LinqToDB;

namespace ProcessDsl;

/// <summary>
/// One processing step as one unit of work: a transaction on the application's writer connection,
/// held from the step's first read to its commit. Everything a policy reads inside the step goes
/// through it (aggregates, projection rows), so the step reads its own writes; row changes are
/// written in it (flushed before any query, so a query sees them); the new events, the tracking
/// move and the commands' queued saves commit in it. Disposed without commit, it rolls back whole:
/// nothing of a failed step is ever stored.
/// </summary>
internal sealed class SqlStepTransaction : StepTransaction
{
    private readonly SqlEventStore _store;
    private readonly List<RowChange> _rows = [];
    private readonly HashSet<Type> _newTables = [];
    private bool _finished;
    private bool _broken;

    internal SqlStepTransaction(SqlEventStore store, StoreCommands commands)
    {
        _store = store;
        Commands = commands;
    }

    internal StoreCommands Commands { get; }


    /// <summary>An aggregate's stored events after a version, read inside the step's transaction.</summary>
    public override IReadOnlyList<Notification> ReadAggregate(Guid id, long afterVersion) =>
        Guard((Step: this, id, afterVersion), static s => s.Step._store.Statements.ReadAggregate(s.Step.Commands, s.id, s.afterVersion));

    /// <summary>The newest notification id of the application's log, read inside the step's transaction.</summary>
    public override long MaxNotificationId() => Guard(this, static step => step._store.Statements.MaxNotificationId(step.Commands));

    /// <summary>The application's notifications with ids in (after, upTo], read inside the step's transaction.</summary>
    public override IReadOnlyList<Notification> ReadRange(long after, long upTo) => Guard(() => _store.Statements.ReadRange(Commands, after, upTo, null));

    /// <summary>A query over mapped rows inside the step: the step's own saves and deletes so far are in it.</summary>
    public override IQueryable<T> Query<T>() where T : class
    {
        Guard(() =>
        {
            FlushRows();
            EnsureTable(typeof(T), RowTables.Create<T>);
            return 0;
        });
        return Commands.Db.GetTable<T>();
    }

    /// <summary>Adds a row change; it is written before the next query in the step, or at commit.</summary>
    public override void Add(RowChange row) => _rows.Add(row);

    /// <summary>Writes the row changes added since the last flush, in order.</summary>
    internal override void FlushRows() => FlushRows(null);

    /// <summary>
    /// Writes the row changes added since the last flush, in order; where they go in batches (see
    /// <see cref="RowStatements.Batch"/>), <paramref name="tracking"/> rides as the last statement of
    /// the last round trip. Returns true when it moved there; false when it was not sent or found
    /// another position (the caller then moves it as usual, which inserts a first position or reports
    /// the conflict).
    /// </summary>
    internal bool FlushRows(TrackingUpdate? tracking)
    {
        if (_rows.Count == 0) return false;
        foreach (var row in _rows) EnsureTable(row.RowType, row.EnsureTable);
        var moved = false;
        if ((_rows.Count == 1 && tracking is null) || !RowStatements.Batch(_store, Commands.Db, _rows, tracking, out moved))
        {
            foreach (var row in _rows) row.Apply(Commands.Db);
        }
        _rows.Clear();
        return moved;
    }

    /// <summary>Commits the step (see <see cref="SqlEventStore.CommitStep"/>).</summary>
    public override long Commit(IReadOnlyList<NewEvent> events, TrackingUpdate? tracking, ParkedEvent? parked = null) =>
        _store.CommitStep(this, events, tracking, parked);

    /// <summary>Deletes a parked record inside the step; false when it was not there (another retry took it).</summary>
    public override bool Unpark(string upstream, long notificationId) =>
        Guard(() => _store.Statements.Unpark(Commands, upstream, notificationId));

    internal void Committed(TimeSpan durableCommitTime)
    {
        _finished = true;
        DurableCommitTime = durableCommitTime;
        _store.RowTablesCommitted(_newTables);
    }

    internal void Abandoned() => _finished = true;

    /// <summary>Rolls back unless committed, and releases the application's writer.</summary>
    public override void Dispose()
    {
        if (!_finished)
        {
            _finished = true;
            _store.Rollback(Commands);
        }
        _store.EndStep(_broken);
    }

    private void EnsureTable(Type type, Action<LinqToDB.Data.DataConnection> create)
    {
        // Created inside the step's transaction: a rolled-back step never leaves the store's cache
        // believing in a table that does not exist.
        if (_store.KnowsRowTable(type) || _newTables.Contains(type)) return;
        _store.Persistence.CreateRowTable(Commands.Db, create);
        _newTables.Add(type);
    }

    private T Guard<T>(Func<T> read) => Guard(read, static read => read());

    /// <summary>As <see cref="Guard{T}(Func{T})"/>, with the read's arguments as <paramref name="state"/> (a static lambda allocates no closure).</summary>
    private T Guard<TState, T>(TState state, Func<TState, T> read)
    {
        try
        {
            return read(state);
        }
        catch (Exception ex) when (_store.IsTransient(ex))
        {
            // A database fault of the library's own call: the connection may be gone.
            _broken = true;
            throw;
        }
    }
}
