using LinqToDB.Data;
using Microsoft.Data.Sqlite;
using ProcessDsl.Tests.Support;

namespace ProcessDsl.Tests;

/// <summary>
/// The SQLite writer gives a database's write-ahead log its working size when it opens
/// (<see cref="SqlitePersistence.WalSize"/>), so commits overwrite the log instead of growing it,
/// without storing anything for it and without waiting on another writer of the file.
/// </summary>
public sealed class SqliteWalSizeTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void A_new_database_gets_a_log_of_its_working_size_and_nothing_else()
    {
        var persistence = Persistence.Sqlite(_directory.Path);
        using var db = persistence.OpenConnection("ledger", StoreConnectionKind.Writer);

        var wal = new FileInfo(persistence.DatabasePath("ledger") + "-wal");
        Assert.True(wal.Exists, "the writer made no log");
        Assert.True(wal.Length >= SqlitePersistence.WalSize, $"the log is {wal.Length} bytes, below {SqlitePersistence.WalSize}");
        // The transaction that grew it was rolled back: no table, no page of the database beyond its header.
        Assert.Equal(0L, Scalar(db, "SELECT COUNT(*) FROM sqlite_master"));
        Assert.True(Scalar(db, "PRAGMA page_count") <= 1, "the database has pages of the rolled-back table");
        // The connection's own settings are back.
        Assert.Equal(60_000L, Scalar(db, "PRAGMA busy_timeout"));
        Assert.Equal(-2_000L, Scalar(db, "PRAGMA cache_size"));
        Assert.Equal(1, SQLitePCL.raw.sqlite3_get_autocommit(((SqliteConnection)db.OpenDbConnection()).Handle));

        // It writes and reads as any database, the log staying at its size.
        db.Execute("CREATE TABLE t (x INTEGER)");
        db.Execute("INSERT INTO t VALUES (42)");
        Assert.Equal(42L, Scalar(db, "SELECT x FROM t"));
        Assert.Equal(wal.Length, new FileInfo(wal.FullName).Length);
    }

    [Fact]
    public void A_store_on_a_new_directory_appends_and_reads_back_through_the_sized_log()
    {
        var persistence = Persistence.Sqlite(_directory.Path);
        using (var store = new SqlEventStore(persistence, "ledger"))
        {
            var last = store.AppendSave([new NewEvent(Guid.NewGuid(), 1, "ledger.opened", [1, 2, 3], DateTimeOffset.UnixEpoch, 1, null)]);
            Assert.Equal(1, last);
            var read = store.ReadRange(0, 1, null);
            Assert.Equal([1, 2, 3], Assert.Single(read).State);
        }
        using var check = new SqliteConnection($"Data Source={persistence.DatabasePath("ledger")}");
        check.Open();
        using var command = check.CreateCommand();
        command.CommandText = "SELECT name FROM sqlite_master WHERE name = 'processdsl_wal_size'";
        Assert.Null(command.ExecuteScalar());
    }

    [Fact]
    public async Task A_database_another_connection_is_writing_opens_without_waiting_for_it_and_keeps_its_log()
    {
        var persistence = Persistence.Sqlite(_directory.Path);
        var path = persistence.DatabasePath("ledger");
        using var other = new SqliteConnection($"Data Source={path}");
        other.Open();
        using (var setup = other.CreateCommand())
        {
            setup.CommandText = "PRAGMA journal_mode=WAL; CREATE TABLE t (x INTEGER); BEGIN IMMEDIATE; INSERT INTO t VALUES (1);";
            setup.ExecuteNonQuery();
        }
        var before = new FileInfo(path + "-wal").Length;

        // The writer's busy timeout is a minute; growing the log must not wait for the other writer.
        var open = Task.Run(() => persistence.OpenConnection("ledger", StoreConnectionKind.Writer));
        var done = await Task.WhenAny(open, Task.Delay(TimeSpan.FromSeconds(30)));
        Assert.True(done == open, "opening the writer waited for the other connection's transaction");
        using var db = await open;
        Assert.Equal(before, new FileInfo(path + "-wal").Length);
        Assert.Equal(60_000L, Scalar(db, "PRAGMA busy_timeout"));

        using (var commit = other.CreateCommand())
        {
            commit.CommandText = "COMMIT";
            commit.ExecuteNonQuery();
        }
        db.Execute("INSERT INTO t VALUES (2)");
        Assert.Equal(2L, Scalar(db, "SELECT COUNT(*) FROM t"));
    }

    [Theory]
    [InlineData(SqliteDurability.Normal)]
    [InlineData(SqliteDurability.Off)]
    public void Without_a_synced_commit_the_log_is_left_to_grow(SqliteDurability durability)
    {
        var persistence = Persistence.Sqlite(_directory.Path, durability);
        using var db = persistence.OpenConnection("ledger", StoreConnectionKind.Writer);
        var wal = new FileInfo(persistence.DatabasePath("ledger") + "-wal");
        Assert.True(!wal.Exists || wal.Length < SqlitePersistence.WalSize, "the log was given its working size");
    }

    private static long Scalar(DataConnection db, string sql) => db.Execute<long>(sql);
}
