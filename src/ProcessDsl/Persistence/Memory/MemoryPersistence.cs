using LinqToDB;
using LinqToDB.Data;

namespace ProcessDsl;

/// <summary>
/// The throwaway store (<see cref="Persistence.InMemory"/>): events, tracking positions and parked
/// events kept as plain objects in this process, projection rows through LinqToDB in in-memory
/// SQLite databases (shared cache, one per application), gone on dispose. Every guarantee of the database stores holds within the process: contiguous ids in
/// commit order, one atomic step (rows committed first, then events and position, under one lock),
/// stale versions and tracking conflicts detected. Nothing survives the process; other processes
/// cannot share it.
/// </summary>
public sealed class MemoryPersistence : Persistence
{
    private readonly SqlitePersistence _rows;

    internal MemoryPersistence()
    {
        var root = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        _rows = new SqlitePersistence(Path.Combine(root, "processdsl-" + Guid.NewGuid().ToString("N")), SqliteDurability.Off, deleteOnDispose: true, inMemory: true);
    }

    /// <summary>
    /// The temporary folder of this store (deleted on dispose); its name also names the in-memory
    /// databases of the projection rows, which need no files.
    /// </summary>
    public string RowsDirectory => _rows.Directory;

    /// <inheritdoc/>
    public override string Description => "memory";

    internal override EventStore CreateStore(string application) => new MemoryEventStore(this, application, () => new MemoryRows(_rows, application));

    /// <inheritdoc/>
    protected internal override DataConnection OpenConnection(string application, StoreConnectionKind kind) => _rows.OpenConnection(application, kind);

    /// <inheritdoc/>
    protected internal override DataOptions QueryOptions(string application) => _rows.QueryOptions(application);

    /// <inheritdoc/>
    protected internal override void CreateTables(DataConnection db, StoreTables tables) => _rows.CreateTables(db, tables);

    /// <inheritdoc/>
    protected internal override System.Data.DbType GuidParameterType => _rows.GuidParameterType;

    /// <inheritdoc/>
    protected internal override StoreFault Classify(Exception exception, StoreTables tables) => _rows.Classify(exception, tables);

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing) _rows.Dispose();
    }
}
