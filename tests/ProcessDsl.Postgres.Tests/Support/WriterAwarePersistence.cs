using System.Runtime.CompilerServices;
using LinqToDB.Data;

namespace ProcessDsl.Postgres.Tests.Support;

/// <summary>
/// A provider outside the library's assembly wrapping a real one, that knows which application's
/// writer connection a <see cref="DataConnection"/> is (the wrappers of the tests act on those).
/// </summary>
public abstract class WriterAwarePersistence(Persistence inner) : DelegatingPersistence(inner)
{
    private readonly ConditionalWeakTable<DataConnection, string> _writers = [];

    /// <summary>The application whose writer <paramref name="db"/> is; null for any other connection.</summary>
    protected string? WriterOf(DataConnection db) => _writers.TryGetValue(db, out var application) ? application : null;

    protected override DataConnection OpenConnection(string application, StoreConnectionKind kind)
    {
        var db = base.OpenConnection(application, kind);
        if (kind == StoreConnectionKind.Writer) _writers.AddOrUpdate(db, application);
        return db;
    }
}
