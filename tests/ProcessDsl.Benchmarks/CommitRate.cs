using System.Diagnostics;
using LinqToDB;
using LinqToDB.Data;
using LinqToDB.DataProvider.SQLite;
using LinqToDB.Mapping;
using Microsoft.Data.Sqlite;

namespace ProcessDsl.Benchmarks;

/// <summary>
/// The machine's own baselines, measured with LinqToDB on SQLite exactly as the store opens it:
/// durable one-row commits per second, and rows per second inserted in one transaction.
/// </summary>
internal static class Baselines
{
    [Table("baseline")]
    private sealed class Row
    {
        [PrimaryKey] public long Id { get; set; }
        [Column, NotNull] public Guid OriginatorId { get; set; }
        [Column, NotNull] public long OriginatorVersion { get; set; }
        [Column, NotNull] public string Topic { get; set; } = "";
        [Column, NotNull] public byte[] State { get; set; } = [];
        [Column, NotNull] public long Timestamp { get; set; }
    }

    private static DataConnection Open(string directory, string synchronous)
    {
        Directory.CreateDirectory(directory);
        var connection = new SqliteConnection($"Data Source={Path.Combine(directory, "baseline.db")}");
        connection.Open();
        using (var pragma = connection.CreateCommand())
        {
            pragma.CommandText = $"PRAGMA journal_mode=WAL; PRAGMA synchronous={synchronous};";
            pragma.ExecuteNonQuery();
        }
        // As the store's writer does: a write-ahead log of its working size from the start.
        if (synchronous == "FULL") SqlitePersistence.PresizeWal(connection, Path.Combine(directory, "baseline.db"));
        var db = new DataConnection(new DataOptions().UseConnection(SQLiteTools.GetDataProvider(SQLiteProvider.Microsoft), connection, true));
        db.CreateTable<Row>(tableOptions: TableOptions.CreateIfNotExists);
        return db;
    }

    private static Row NewRow(long id) => new()
    {
        Id = id,
        OriginatorId = Guid.NewGuid(),
        OriginatorVersion = 1,
        Topic = "baseline.topic",
        State = """{"OrderId":"00000000-0000-0000-0000-000000000000","OriginatorId":"00000000-0000-0000-0000-000000000000","OriginatorVersion":1,"Timestamp":"2026-11-25T00:00:00+00:00"}"""u8.ToArray(),
        Timestamp = DateTime.UtcNow.Ticks,
    };

    /// <summary>One-row transactions committed per second with synchronous=FULL, for about <paramref name="seconds"/>.</summary>
    public static double DurableCommitsPerSecond(string directory, double seconds)
    {
        using var db = Open(directory, "FULL");
        var clock = Stopwatch.StartNew();
        long n = 0;
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            using var tx = db.BeginTransaction();
            db.Insert(NewRow(++n));
            tx.Commit();
        }
        return n / clock.Elapsed.TotalSeconds;
    }

    /// <summary>Rows per second inserted with LinqToDB in one transaction (multi-row inserts, or one statement per row).</summary>
    public static double RowsPerSecondInOneTransaction(string directory, int rows, bool multipleRows = true, bool parameters = true)
    {
        using var db = Open(directory, "FULL");
        var data = new Row[rows];
        for (var i = 0; i < rows; i++) data[i] = NewRow(i + 1);
        var clock = Stopwatch.StartNew();
        using (var tx = db.BeginTransaction())
        {
            if (multipleRows) db.BulkCopy(new BulkCopyOptions { BulkCopyType = BulkCopyType.MultipleRows, UseParameters = parameters }, data);
            else foreach (var row in data) db.Insert(row);
            tx.Commit();
        }
        return rows / clock.Elapsed.TotalSeconds;
    }
}
