using ProcessDsl.Tests.Support;

namespace ProcessDsl.Tests;

/// <summary>
/// A step's scope and the in-memory store's version check look things up by scanning while a step
/// holds a few, and through maps past that: both ways must give the same answers.
/// </summary>
public sealed class StepScopeTests
{
    [Theory]
    [InlineData(3)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(40)]
    public void A_scope_finds_each_collected_aggregate_and_refuses_another_object_with_its_id(int count)
    {
        using var persistence = Persistence.InMemory();
        var bank = new Bank().Open(persistence);
        using var step = bank.Store.BeginStep();
        using var scope = new ProcessingScope(bank, step);
        var accounts = Enumerable.Range(0, count).Select(i => Account.Open("owner " + i)).ToList();
        foreach (var account in accounts) scope.Collect(account);
        foreach (var account in accounts) scope.Collect(account); // the same object again: kept once

        Assert.Equal(accounts, scope.Aggregates);
        foreach (var account in accounts)
        {
            Assert.True(scope.TryGet(account.Id, out var found));
            Assert.Same(account, found);
        }
        Assert.False(scope.TryGet(Guid.NewGuid(), out _));
        foreach (var index in new[] { 0, count / 2, count - 1 })
        {
            var copy = Account.Open(accounts[index].Id, "copy");
            Assert.Throws<InvalidOperationException>(() => scope.Collect(copy));
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(17)]
    [InlineData(50)]
    public void Events_triggered_while_a_policy_runs_get_its_cause_and_others_none(int perUpstream)
    {
        using var persistence = Persistence.InMemory();
        var bank = new Bank().Open(persistence);
        using var step = bank.Store.BeginStep();
        using var scope = new ProcessingScope(bank, step);
        var outside = Account.Open("before any policy ran").PendingEvents.Single();
        var triggered = new List<(DomainEvent Event, long Upstream)>();
        for (long upstream = 1; upstream <= 3; upstream++)
        {
            scope.Processing("Orders", new Notification(upstream, Guid.NewGuid(), 1, "orders.created", []), default);
            for (var i = 0; i < perUpstream; i++)
            {
                var account = Account.Open("caused by " + upstream);
                account.Deposit(i);
                foreach (var e in account.PendingEvents) triggered.Add((e, upstream));
            }
        }

        foreach (var (e, upstream) in triggered)
            Assert.Equal("Orders:" + upstream, scope.MetadataOf(e)?.CausationId);
        Assert.Null(scope.MetadataOf(outside));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(40)]
    public void The_memory_store_refuses_a_write_whose_version_is_not_the_next_of_its_aggregate(int count)
    {
        using var persistence = Persistence.InMemory();
        var bank = new Bank().Open(persistence);
        var stored = Guid.NewGuid();
        bank.Store.AppendSave([Event(stored, 1), Event(stored, 2)]);

        // A long run of events over several aggregates, each version the next: accepted.
        var first = Guid.NewGuid();
        var run = new List<NewEvent>();
        for (var i = 0; i < count; i++) run.Add(i % 2 == 0 ? Event(first, i / 2 + 1) : Event(stored, i / 2 + 3));
        bank.Store.AppendSave(run);

        // The same run again, and a run with a gap at its end: refused whole.
        var storedBefore = bank.NotificationLog.MaxNotificationId;
        Assert.Throws<ConcurrencyException>(() => bank.Store.AppendSave(run));
        // Fresh aggregates in pairs (versions 1 and 2), the last one's next event skipping a version.
        var gap = new List<NewEvent>();
        for (var i = 0; i < count; i++) gap.Add(i % 2 == 0 ? Event(Guid.NewGuid(), 1) : Event(gap[^1].OriginatorId, 2));
        gap.Add(Event(gap[^1].OriginatorId, gap[^1].OriginatorVersion + 2));
        var error = Assert.Throws<ConcurrencyException>(() => bank.Store.AppendSave(gap));
        Assert.Equal(gap[^1].OriginatorId, error.AggregateId);
        Assert.Equal(storedBefore, bank.NotificationLog.MaxNotificationId);
    }

    private static NewEvent Event(Guid id, long version) =>
        new(id, version, "tests.account.deposited", "{\"Amount\":1}"u8.ToArray(), DateTimeOffset.UtcNow);
}
