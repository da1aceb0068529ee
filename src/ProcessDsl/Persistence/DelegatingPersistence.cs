using System.Data.Common;
using LinqToDB;
using LinqToDB.Data;
using LinqToDB.Mapping;

namespace ProcessDsl;

/// <summary>
/// A store that hands everything to another one: derive from it to wrap a provider (inject faults in
/// tests, trace statements, count commits) and override only what you change, calling the base.
/// Disposing it disposes the inner store.
/// </summary>
public abstract class DelegatingPersistence : Persistence
{
    /// <summary>Wraps <paramref name="inner"/>.</summary>
    protected DelegatingPersistence(Persistence inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        Inner = inner;
    }

    /// <summary>The wrapped store.</summary>
    public Persistence Inner { get; }

    /// <inheritdoc/>
    public override string Description => Inner.Description;

    /// <inheritdoc/>
    public override string? ShareableSpec => Inner.ShareableSpec;

    /// <inheritdoc/>
    protected internal override DataConnection OpenConnection(string application, StoreConnectionKind kind) => Inner.OpenConnection(application, kind);

    /// <inheritdoc/>
    protected internal override DataOptions QueryOptions(string application) => Inner.QueryOptions(application);

    /// <inheritdoc/>
    protected internal override StoreTables TablesOf(string application) => Inner.TablesOf(application);

    /// <inheritdoc/>
    protected internal override void CreateTables(DataConnection db, StoreTables tables) => Inner.CreateTables(db, tables);

    /// <inheritdoc/>
    protected internal override void CreateRowTable(DataConnection db, Action<DataConnection> create) => Inner.CreateRowTable(db, create);

    /// <inheritdoc/>
    protected internal override bool BindRowArrays(DataConnection db, DbBatchCommand command, string insertInto, IReadOnlyList<ColumnDescriptor> columns, IReadOnlyList<object> rows, string onConflict) =>
        Inner.BindRowArrays(db, command, insertInto, columns, rows, onConflict);

    /// <inheritdoc/>
    protected internal override bool InsertsNewRowsFirst => Inner.InsertsNewRowsFirst;

    /// <inheritdoc/>
    protected internal override string? AppendLockSql(StoreTables tables) => Inner.AppendLockSql(tables);

    /// <inheritdoc/>
    protected internal override void InsertEvents(StoreCommands commands, StoreTables tables, IReadOnlyList<StoredEvent> events) =>
        Inner.InsertEvents(commands, tables, events);

    /// <inheritdoc/>
    protected internal override ValueTask InsertEventsAsync(StoreCommands commands, StoreTables tables, IReadOnlyList<StoredEvent> events, CancellationToken cancellationToken) =>
        Inner.InsertEventsAsync(commands, tables, events, cancellationToken);

    /// <inheritdoc/>
    protected internal override AppendedAtOnce? AppendAtOnce(StoreCommands commands, StoreTables tables, string application, TrackingUpdate? tracking, IReadOnlyList<StoredEvent> events, WriteProgress progress) =>
        Inner.AppendAtOnce(commands, tables, application, tracking, events, progress);

    /// <inheritdoc/>
    protected internal override ValueTask<AppendedAtOnce?> AppendAtOnceAsync(StoreCommands commands, StoreTables tables, string application, IReadOnlyList<StoredEvent> events, WriteProgress progress, CancellationToken cancellationToken) =>
        Inner.AppendAtOnceAsync(commands, tables, application, events, progress, cancellationToken);

    /// <summary>
    /// False, whatever the inner provider says: a command's save then runs its statements and its
    /// <see cref="CommitTransaction"/> through this wrapper, one by one. A wrapper that changes none of
    /// what a save runs may return <see cref="InnerAppendsCommitted"/>.
    /// </summary>
    protected internal override bool AppendsCommitted => false;

    /// <summary>
    /// What the inner provider answers for <see cref="AppendsCommitted"/> (a wrapper outside this
    /// library cannot ask the inner store itself), for a wrapper that lets saves keep the inner
    /// provider's single round trip.
    /// </summary>
    protected bool InnerAppendsCommitted => Inner.AppendsCommitted;

    /// <inheritdoc/>
    protected internal override long AppendCommitted(StoreCommands commands, StoreTables tables, string application, IReadOnlyList<StoredEvent> events, WriteProgress progress) =>
        Inner.AppendCommitted(commands, tables, application, events, progress);

    /// <inheritdoc/>
    protected internal override Task<long> AppendCommittedAsync(StoreCommands commands, StoreTables tables, string application, IReadOnlyList<StoredEvent> events, WriteProgress progress, CancellationToken cancellationToken) =>
        Inner.AppendCommittedAsync(commands, tables, application, events, progress, cancellationToken);

    /// <inheritdoc/>
    protected internal override ValueTask AppendingAsync(StoreCommands commands, string application, long lastNotificationId, CancellationToken cancellationToken) =>
        Inner.AppendingAsync(commands, application, lastNotificationId, cancellationToken);

    /// <inheritdoc/>
    protected internal override void Appending(StoreCommands commands, string application, long lastNotificationId) =>
        Inner.Appending(commands, application, lastNotificationId);

    /// <inheritdoc/>
    protected internal override System.Data.DbType GuidParameterType => Inner.GuidParameterType;

    /// <inheritdoc/>
    protected internal override void BeginPositionWrite(StoreCommands commands) => Inner.BeginPositionWrite(commands);

    /// <inheritdoc/>
    protected internal override void EndPositionWrite(StoreCommands commands) => Inner.EndPositionWrite(commands);

    /// <inheritdoc/>
    protected internal override void CommitTransaction(DataConnection db) => Inner.CommitTransaction(db);

    /// <inheritdoc/>
    protected internal override Task CommitTransactionAsync(DataConnection db, CancellationToken cancellationToken) => Inner.CommitTransactionAsync(db, cancellationToken);

    /// <inheritdoc/>
    protected internal override StoreFault Classify(Exception exception, StoreTables tables) => Inner.Classify(exception, tables);

    /// <inheritdoc/>
    public override PromptTransport? CreatePromptTransport() => Inner.CreatePromptTransport();

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing) Inner.Dispose();
    }
}
