using System.Data.Common;
using LinqToDB;
using LinqToDB.Data;
using LinqToDB.Mapping;
using ProcessDsl.Postgres.Tests.Support;

namespace ProcessDsl.Postgres.Tests.Wide;

/// <summary>A meter reading: taken once, adjusted later (the adjustment rewrites its row).</summary>
public sealed partial class Reading : Aggregate
{
    [Topic("wide.reading.taken")] public sealed record Taken(int Number) : DomainEvent;
    [Topic("wide.reading.adjusted")] public sealed record Adjusted(int Number) : DomainEvent;

    public static Reading Take(int number) => Create<Reading>(Guid.NewGuid(), new Taken(number));
    public void Adjust(int number) => Trigger(new Adjusted(number));

    [Apply] void When(Taken e) { }
    [Apply] void When(Adjusted e) { }
}

public sealed partial class Meter : Application
{
    public void Record(params Aggregate[] readings) => Save(readings);
}

public enum Level { Low, High }

/// <summary>A row with a column of each common kind, some nullable, one always null, one jsonb.</summary>
[Table("wide_row")]
public sealed class WideRow
{
    [PrimaryKey, Column("id")] public Guid Id { get; set; }
    [Column("number")] public int Number { get; set; }
    [Column("big")] public long? Big { get; set; }
    [Column("name")] public string? Name { get; set; }
    [Column("taken_at")] public DateTime TakenAt { get; set; }
    [Column("offset_at")] public DateTimeOffset OffsetAt { get; set; }
    [Column("amount")] public decimal Amount { get; set; }
    [Column("flag")] public bool Flag { get; set; }
    [Column("blob")] public byte[]? Blob { get; set; }
    [Column("ratio")] public double Ratio { get; set; }
    [Column("level")] public Level Level { get; set; }
    [Column("parent")] public Guid? Parent { get; set; }
    [Column("doc", DataType = DataType.BinaryJson), NotNull] public string Doc { get; set; } = "{}";

    /// <summary>The row a reading's number makes (UTC and offset times, nulls in turn).</summary>
    public static WideRow For(Guid id, int number) => new()
    {
        Id = id,
        Number = number,
        Big = number % 4 == 0 ? null : 10_000_000_000L + number,
        Name = number % 3 == 0 ? null : "reading " + number,
        TakenAt = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddSeconds(number),
        OffsetAt = new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.FromHours(2)).AddMinutes(number),
        Amount = number + 0.25m,
        Flag = number % 2 == 0,
        Blob = number % 5 == 0 ? null : [(byte)number, 0, 255],
        Ratio = number / 8.0,
        Level = number % 2 == 0 ? Level.High : Level.Low,
        Doc = "{\"n\": " + number + "}",
    };

    /// <summary>What compares across stores: times as instants, bytes by content.</summary>
    public string Described() => string.Join("|", Id, Number, Big, Name, TakenAt.Ticks, OffsetAt.UtcTicks, Amount, Flag,
        Blob is null ? "null" : Convert.ToHexString(Blob), Ratio, Level, Parent?.ToString() ?? "null", Doc);
}

/// <summary>A projection of readings: a row per reading, written again when it is adjusted.</summary>
public sealed partial class Board : ProcessApplication
{
    [Policy(typeof(Reading.Taken))]
    void On(Reading.Taken e, ProcessingEvent processing) => processing.Save(WideRow.For(e.OriginatorId, e.Number));

    [Policy(typeof(Reading.Adjusted))]
    void On(Reading.Adjusted e, ProcessingEvent processing) => processing.Save(WideRow.For(e.OriginatorId, e.Number));
}

/// <summary>A row whose label is unique besides its key (the test creates that index).</summary>
[Table("label_row")]
public sealed class LabelRow
{
    [PrimaryKey, Column("id")] public Guid Id { get; set; }
    [Column("label"), NotNull] public string Label { get; set; } = "";
}

/// <summary>Labels each reading by its number modulo ten: the eleventh reading repeats a label.</summary>
public sealed partial class Labels : ProcessApplication
{
    [Policy(typeof(Reading.Taken))]
    void On(Reading.Taken e, ProcessingEvent processing) => processing.Save(new LabelRow { Id = e.OriginatorId, Label = "label " + e.Number % 10 });
}

[ProcessSystem]
[Pipeline(typeof(Meter), typeof(Board))]
public static partial class BoardSystem;

[ProcessSystem]
[Pipeline(typeof(Meter), typeof(Labels))]
public static partial class LabelSystem;

/// <summary>
/// A step's runs of projection rows: on PostgreSQL one statement of arrays (one parameter per column)
/// tried first as a plain insert, and as an upsert when a key exists. Whatever the path, every column
/// reads back as the row was saved, on every store; a duplicate the database refuses for another
/// reason than the key is still the step's error.
/// </summary>
public sealed class RowArraysTests
{
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(60);

    private static RunnerOptions Options(int attempts = 3) => new()
    {
        Processing = new ProcessingOptions { MaxBatchSize = 1000, PolicyAttempts = attempts, InitialBackoff = TimeSpan.FromMilliseconds(1) },
    };

    [Theory, SqliteStore, PostgresStore, MemoryStore]
    public async Task A_run_of_rows_of_every_common_column_type_reads_back_as_saved_then_as_rewritten(string kind)
    {
        using var test = TestStore.Create(kind);
        var arrays = test.IsPostgres ? new ArrayCounter(test.Open()) : null;
        var readings = Enumerable.Range(1, 60).Select(Reading.Take).ToList();
        ((Meter)new Meter().Open(test.Open())).Record([.. readings]);

        await using var runner = new SingleThreadedRunner(BoardSystem.Definition, arrays ?? test.Open(), Options());
        await runner.StartAsync();
        await runner.WaitUntilIdleAsync(Idle);
        var board = runner.Get<Board>();
        Assert.Equal(Expected(readings, n => n), Stored(board));

        // Each reading adjusted in one save: the next step's run meets sixty keys that exist.
        foreach (var reading in readings) reading.Adjust(1000 + readings.IndexOf(reading));
        runner.Get<Meter>().Record([.. readings]);
        await runner.WaitUntilIdleAsync(Idle);
        Assert.Equal(Expected(readings, n => 1000 + n - 1), Stored(board));

        if (arrays is not null)
        {
            // Sixty new rows went as one statement of arrays, a plain insert; the sixty rewritten ones
            // were tried so, refused on their keys, and went again as one upsert.
            Assert.Equal([(60, false), (60, false), (60, true)], arrays.Runs);
        }
    }

    [Theory, SqliteStore, PostgresStore]
    public async Task A_duplicate_the_database_refuses_on_another_unique_index_is_the_steps_error_and_nothing_of_it_is_stored(string kind)
    {
        using var test = TestStore.Create(kind);
        var readings = Enumerable.Range(1, 15).Select(Reading.Take).ToList();   // 1 and 11 share "label 1"
        ((Meter)new Meter().Open(test.Open())).Record([.. readings]);
        test.Execute("Labels", "CREATE TABLE label_row (id uuid PRIMARY KEY, label text NOT NULL CONSTRAINT label_row_label_key UNIQUE)");

        await using var runner = new SingleThreadedRunner(LabelSystem.Definition, test.Open(), Options(attempts: 2));
        var failure = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await runner.StartAsync();
            await runner.WaitUntilIdleAsync(Idle);
        });
        var processing = failure as ProcessingException ?? Assert.IsType<ProcessingException>(failure.InnerException);
        Assert.Equal("Labels", processing.Application);
        Assert.Equal(11, processing.NotificationId);
        // The database's own words: PostgreSQL names the constraint, SQLite the column.
        Assert.Contains(test.IsPostgres ? "label_row_label_key" : "label_row.label", processing.ToString(), StringComparison.Ordinal);

        // The ten before it are stored, as if run alone; nothing of it.
        var labels = runner.Get<Labels>().Query<LabelRow>().ToList();
        Assert.Equal(readings.Take(10).Select(r => r.Id).Order(), labels.Select(l => l.Id).Order());
    }

    [Theory, SqliteStore, PostgresStore]
    public async Task A_step_of_rows_alone_behind_another_worker_conflicts_and_stores_nothing_of_it(string kind)
    {
        // Catalog appends each tag to the row it reads: an event applied twice shows as a tag twice.
        // Its steps write rows and no events, so on PostgreSQL the tracking move rides in the rows'
        // round trip; a step behind another worker must still find its move refused and roll back whole.
        using var test = TestStore.Create(kind);
        RunnerOptions Options() => new()
        {
            Applications = ["Catalog"],
            PollInterval = TimeSpan.FromHours(1),
            Processing = new ProcessingOptions { InitialBackoff = TimeSpan.FromMilliseconds(1) },
        };
        var shop = (Shop.Shop)new Shop.Shop().Open(test.Open());
        var ids = shop.Stock(items: 10, tags: 2);                                   // Listed, 2 x Tagged, Sold: 1..40
        await using var runner = new SingleThreadedRunner(Shop.ShopSystem.Definition, new Unprompted(test.Open()), Options());
        await runner.StartAsync();
        await runner.WaitUntilIdleAsync(Idle);                                      // at 40, and it knows it

        TagAll(shop, ids, "x");                                                     // 41..50: this runner hears nothing
        await using (var other = new SingleThreadedRunner(Shop.ShopSystem.Definition, test.Open(), Options()))
        {
            await other.StartAsync();                                               // another worker takes 41..50
            await other.WaitUntilIdleAsync(Idle);
        }
        // Saved through this runner, which then steps from the 40 it knows: its policies read rows the
        // other worker tagged "x" and tag them "x" again; its tracking move finds 50, and nothing of
        // that step may stay. Its next step starts from 50.
        TagAll(runner.Get<Shop.Shop>(), ids, "y");                                  // 51..60
        await runner.WaitUntilIdleAsync(Idle);

        var rows = runner.Get<Shop.Catalog>().Query<Shop.CatalogRow>().ToList();
        Assert.Equal(ids.Order(), rows.Select(r => r.ItemId).Order());
        Assert.All(rows, r => Assert.Equal(",t0,t1,x,y", r.Tags));
        Assert.All(rows, r => Assert.True(r.Sold));

        static void TagAll(Shop.Shop shop, List<Guid> ids, string tag)
        {
            foreach (var id in ids)
            {
                var item = shop.Repository.Get<Shop.Item>(id);
                item.Tag(tag);
                shop.Add(item);
            }
        }
    }

    private static List<string> Expected(List<Reading> readings, Func<int, int> number) =>
        readings.Select((r, i) => WideRow.For(r.Id, number(i + 1)).Described()).Order(StringComparer.Ordinal).ToList();

    private static List<string> Stored(Board board) =>
        board.Query<WideRow>().ToList().Select(r => r.Described()).Order(StringComparer.Ordinal).ToList();

    /// <summary>A store whose runners hear no prompts from other store instances (they poll instead).</summary>
    private sealed class Unprompted(Persistence inner) : DelegatingPersistence(inner)
    {
        public override PromptTransport? CreatePromptTransport() => null;
    }

    /// <summary>Records each run the provider bound as arrays: how many rows, and whether as an upsert.</summary>
    private sealed class ArrayCounter(Persistence inner) : DelegatingPersistence(inner)
    {
        private readonly List<(int Rows, bool Upsert)> _runs = [];

        public List<(int Rows, bool Upsert)> Runs
        {
            get
            {
                lock (_runs) return [.. _runs];
            }
        }

        protected override bool BindRowArrays(DataConnection db, DbBatchCommand command, string insertInto, IReadOnlyList<ColumnDescriptor> columns, IReadOnlyList<object> rows, string onConflict)
        {
            var bound = base.BindRowArrays(db, command, insertInto, columns, rows, onConflict);
            if (bound)
                lock (_runs) _runs.Add((rows.Count, onConflict.Length > 0));
            return bound;
        }
    }
}
