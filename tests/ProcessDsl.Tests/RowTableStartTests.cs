using LinqToDB.Mapping;
using ProcessDsl.Tests.Support;

namespace ProcessDsl.Tests;

/// <summary>A row type LinqToDB cannot make a table for: a column of a type no database stores.</summary>
[Table("unstorable_row")]
public sealed class UnstorableRow
{
    [PrimaryKey] public int Id { get; set; }
    [Column] public Action? Callback { get; set; }
}

public sealed partial class Ledger : Application;

/// <summary>Declares its row table by hand (its policy writes none the generator could see).</summary>
public sealed partial class UnstorableIndex : ProcessApplication
{
    [Policy(typeof(Parcel.Sent))]
    void On(Parcel.Sent e, ProcessingEvent processing) { }

    protected override void CreateRowTables() => CreateRowTable<UnstorableRow>();
}

[ProcessSystem]
[Pipeline(typeof(Post), typeof(UnstorableIndex))]
public static partial class UnstorableSystem;

public sealed class RowTableStartTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_row_type_the_store_cannot_make_a_table_for_stops_the_start_naming_the_application_and_the_type()
    {
        using var store = Persistence.Sqlite(_dir.Path);
        await using var runner = new SingleThreadedRunner(UnstorableSystem.Definition, store);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => runner.StartAsync());

        Assert.Contains("'UnstorableIndex'", error.Message);
        Assert.Contains(typeof(UnstorableRow).FullName!, error.Message);
        Assert.IsType<LinqToDB.LinqToDBException>(error.InnerException);
        Assert.Contains("System.Action", error.Message); // LinqToDB's own reason, kept in the message
    }
}
