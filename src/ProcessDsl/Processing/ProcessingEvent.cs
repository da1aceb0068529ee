using LinqToDB;

namespace ProcessDsl;

/// <summary>
/// What a policy does in response to one upstream event: the aggregates it changed
/// (<see cref="Collect"/>) and the projection rows it wrote (<see cref="Save{T}"/>,
/// <see cref="Delete{T}"/>). All of it commits with the follower's new tracking position in one
/// transaction, or none of it does.
/// </summary>
public sealed class ProcessingEvent
{
    private readonly ProcessingScope _scope;

    internal ProcessingEvent(ProcessingScope scope, string upstream, Notification notification)
    {
        _scope = scope;
        Upstream = upstream;
        Notification = notification;
    }

    /// <summary>The upstream application the event came from.</summary>
    public string Upstream { get; }

    /// <summary>The upstream notification being processed.</summary>
    public Notification Notification { get; }

    /// <summary>Records aggregates whose new events must be stored with this step.</summary>
    public void Collect(params Aggregate[] aggregates)
    {
        ArgumentNullException.ThrowIfNull(aggregates);
        foreach (var aggregate in aggregates)
        {
            ArgumentNullException.ThrowIfNull(aggregate);
            _scope.Collect(aggregate);
        }
    }

    /// <summary>Inserts or replaces a LinqToDB-mapped row (by primary key) with this step; its table is created if missing.</summary>
    public void Save<T>(T row) where T : class
    {
        ArgumentNullException.ThrowIfNull(row);
        _scope.Rows.Add(new RowChange(typeof(T), CreateTable<T>, db => InsertOrReplace(db, row)));
    }

    /// <summary>Deletes a LinqToDB-mapped row (by primary key) with this step.</summary>
    public void Delete<T>(T row) where T : class
    {
        ArgumentNullException.ThrowIfNull(row);
        _scope.Rows.Add(new RowChange(typeof(T), CreateTable<T>, db => db.Delete(row)));
    }

    private static void InsertOrReplace<T>(LinqToDB.Data.DataConnection db, T row) where T : class
    {
        // An upsert has nothing to update when every column is part of the key: then the row is
        // put in place by deleting any old one and inserting it.
        if (db.MappingSchema.GetEntityDescriptor(typeof(T)).Columns.All(c => c.IsPrimaryKey))
        {
            db.Delete(row);
            db.Insert(row);
        }
        else
        {
            db.InsertOrReplace(row);
        }
    }

    private static void CreateTable<T>(LinqToDB.Data.DataConnection db) where T : class =>
        db.CreateTable<T>(tableOptions: TableOptions.CreateIfNotExists);
}
