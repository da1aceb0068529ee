using ProcessDsl.Tests.Support;

namespace ProcessDsl.Tests;

public sealed class NotificationLogTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly SqlitePersistence _store;
    private readonly Bank _bank;

    public NotificationLogTests()
    {
        _store = Persistence.Sqlite(_dir.Path);
        _bank = (Bank)new Bank().Open(_store, new ApplicationOptions { SectionSize = 5 });
    }

    public void Dispose()
    {
        _store.Dispose();
        _dir.Dispose();
    }

    private void Record(int count)
    {
        for (var i = 0; i < count; i++) _bank.OpenAccount("owner" + i);
    }

    [Fact]
    public void Nine_items_in_sections_of_five_give_current_6_10_with_four_items()
    {
        Record(9);
        var log = _bank.NotificationLog;

        var current = log["current"];
        Assert.Equal("6,10", current.Id);
        Assert.Equal(4, current.Items.Count);
        Assert.Equal("1,5", current.PreviousId);
        Assert.Null(current.NextId);
        Assert.Equal([6L, 7, 8, 9], current.Items.Select(n => n.Id));

        var first = log["1,5"];
        Assert.Equal("1,5", first.Id);
        Assert.Null(first.PreviousId);
        Assert.Equal("6,10", first.NextId);
        Assert.Equal(5, first.Items.Count);
        Assert.True(first.IsArchived);
    }

    [Fact]
    public void A_requested_section_is_normalised_to_the_log_size()
    {
        Record(9);
        var section = _bank.NotificationLog["1,10"];
        Assert.Equal("1,5", section.Id);
        Assert.Equal(5, section.Items.Count);
    }

    [Fact]
    public void Thirteen_items_give_current_11_15_with_three_items()
    {
        Record(13);
        var current = _bank.NotificationLog["current"];
        Assert.Equal("11,15", current.Id);
        Assert.Equal(3, current.Items.Count);
        Assert.Equal("6,10", current.PreviousId);
        Assert.Null(current.NextId);
    }

    [Fact]
    public void An_empty_log_has_an_empty_first_section()
    {
        var current = _bank.NotificationLog["current"];
        Assert.Equal("1,5", current.Id);
        Assert.Empty(current.Items);
        Assert.Null(current.PreviousId);
        Assert.Null(current.NextId);
    }

    [Fact]
    public void Archived_sections_never_change()
    {
        Record(5);
        var before = _bank.NotificationLog["1,5"];
        Record(7);
        var after = _bank.NotificationLog["1,5"];
        Assert.Equal(before.Items.Select(n => (n.Id, n.OriginatorId, n.Topic)), after.Items.Select(n => (n.Id, n.OriginatorId, n.Topic)));
        Assert.Equal(before.NextId, after.NextId);
    }

    [Theory]
    [InlineData("")]
    [InlineData("0,5")]
    [InlineData("5,1")]
    [InlineData("a,b")]
    [InlineData("1,5,9")]
    [InlineData("-1,4")]
    [InlineData("1,9223372036854775808")]
    public void The_log_rejects_malformed_section_ids(string sectionId)
    {
        Record(3);
        Assert.Throws<ArgumentException>(() => _bank.NotificationLog[sectionId]);
    }

    [Fact]
    public void Notifications_carry_the_stored_event()
    {
        var id = _bank.OpenAccount("alice");
        var n = Assert.Single(_bank.NotificationLog["current"].Items);
        Assert.Equal(1, n.Id);
        Assert.Equal(id, n.OriginatorId);
        Assert.Equal(1, n.OriginatorVersion);
        Assert.Equal("tests.account.opened", n.Topic);
        var e = Assert.IsType<Account.Opened>(EventTopics.Deserialize(n));
        Assert.Equal("alice", e.Owner);
    }

    [Fact]
    public void Reader_seeks_reads_and_resumes_from_a_stored_position()
    {
        Record(7);
        var reader = new NotificationLogReader(_bank.NotificationLog);
        var all = reader.Read();
        Assert.Equal(Enumerable.Range(1, 7).Select(i => (long)i), all.Select(n => n.Id));
        Assert.Empty(reader.Read());

        Record(4);
        var more = reader.Read();
        Assert.Equal([8L, 9, 10, 11], more.Select(n => n.Id));
        var stored = reader.Position;
        Assert.Equal(11, stored);

        // A new reader resumed from the stored position reads only what came after it.
        Record(2);
        var resumed = new NotificationLogReader(_bank.NotificationLog).Seek(stored);
        Assert.Equal([12L, 13], resumed.Read().Select(n => n.Id));

        var fromMiddle = new NotificationLogReader(_bank.NotificationLog).Seek(3);
        Assert.Equal(Enumerable.Range(4, 10).Select(i => (long)i), fromMiddle.Read().Select(n => n.Id));
    }

    [Fact]
    public async Task Reader_streams_asynchronously()
    {
        Record(12);
        var reader = new NotificationLogReader(_bank.NotificationLog).Seek(2);
        var ids = new List<long>();
        await foreach (var n in reader.ReadAsync()) ids.Add(n.Id);
        Assert.Equal(Enumerable.Range(3, 10).Select(i => (long)i), ids);
        Assert.Equal(12, reader.Position);
    }

    [Fact]
    public void Select_filters_topics_but_advances_past_everything_it_covered()
    {
        var id = _bank.OpenAccount("a");
        _bank.Deposit(id, 5);
        _bank.Deposit(id, 6);
        _bank.OpenAccount("b");
        var batch = _bank.NotificationLog.Select(0, 3, new HashSet<string> { "tests.account.deposited" });
        Assert.Equal([2L, 3], batch.Items.Select(n => n.Id));
        Assert.Equal(3, batch.Position);
        var rest = _bank.NotificationLog.Select(3, 100, new HashSet<string> { "tests.account.deposited" });
        Assert.Empty(rest.Items);
        Assert.Equal(4, rest.Position);
    }
}
