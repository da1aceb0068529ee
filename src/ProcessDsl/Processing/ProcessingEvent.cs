using System.Collections.Concurrent;
using LinqToDB;
using LinqToDB.Mapping;

namespace ProcessDsl;

/// <summary>
/// What a policy does in response to one upstream event: the aggregates it changed
/// (<see cref="Collect"/>) and the projection rows it wrote (<see cref="Save{T}"/>,
/// <see cref="Delete{T}"/>). All of it commits with the follower's new tracking position in one
/// transaction, or none of it does. Inside the step, <see cref="Application.Query{T}"/> and the
/// repository see what the step has written so far.
/// </summary>
public sealed class ProcessingEvent
{
    private static readonly ConcurrentDictionary<Type, bool> s_keyOnly = new();
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
    /// <exception cref="ArgumentException">The row is an aggregate, or its type has no primary key.</exception>
    public void Save<T>(T row) where T : class
    {
        ArgumentNullException.ThrowIfNull(row);
        var keyOnly = CheckRow(row, "Save");
        var statements = RowStatements.For(typeof(T));
        _scope.Step.Add(statements is not null
            ? new RowChange(typeof(T), RowTables.Create<T>, db => statements.Save(db, row), statements, row)
            : new RowChange(typeof(T), RowTables.Create<T>, db => InsertOrReplace(db, row, keyOnly)));
    }

    /// <summary>Deletes a LinqToDB-mapped row (by primary key) with this step.</summary>
    /// <exception cref="ArgumentException">The row is an aggregate, or its type has no primary key.</exception>
    public void Delete<T>(T row) where T : class
    {
        ArgumentNullException.ThrowIfNull(row);
        CheckRow(row, "Delete");
        var statements = RowStatements.For(typeof(T));
        _scope.Step.Add(statements is not null
            ? new RowChange(typeof(T), RowTables.Create<T>, db => statements.Delete(db, row), statements, row, IsDelete: true)
            : new RowChange(typeof(T), RowTables.Create<T>, db => db.Delete(row)));
    }

    /// <summary>Says in our words what LinqToDB would otherwise report deep inside a commit; returns whether every column is a key.</summary>
    private static bool CheckRow<T>(T row, string what) where T : class
    {
        if (row is Aggregate aggregate)
            throw new ArgumentException(
                $"processing.{what}(...) was given the aggregate {aggregate.GetType().Name} {aggregate.Id}. Aggregates are stored as events: " +
                "call processing.Collect(aggregate) instead. Save and Delete are for projection rows (LinqToDB-mapped classes).", nameof(row));
        return s_keyOnly.GetOrAdd(typeof(T), static type =>
        {
            var columns = MappingSchema.Default.GetEntityDescriptor(type).Columns;
            if (!columns.Any(c => c.IsPrimaryKey))
                throw new ArgumentException(
                    $"The projection row type {type.FullName} has no primary key, so a step cannot save, replace or delete its rows. " +
                    "Mark the property (or properties) that identify a row with [PrimaryKey] (LinqToDB.Mapping).", nameof(row));
            return columns.All(c => c.IsPrimaryKey);
        });
    }

    private static void InsertOrReplace<T>(LinqToDB.Data.DataConnection db, T row, bool keyOnly) where T : class
    {
        // An upsert has nothing to update when every column is part of the key: then the row is
        // put in place by deleting any old one and inserting it.
        if (keyOnly)
        {
            db.Delete(row);
            db.Insert(row);
        }
        else
        {
            db.InsertOrReplace(row);
        }
    }
}
