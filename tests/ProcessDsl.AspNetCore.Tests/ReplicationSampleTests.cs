using ProcessDsl.AspNetCore.Tests.Support;
using ReplicationSample;

namespace ProcessDsl.AspNetCore.Tests;

/// <summary>The seeds' replicator: create, replicate, create more, resume, restart, replicate again; and racing replicators.</summary>
public sealed class ReplicationSampleTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Seed_scenario_replicates_resumes_and_restarts(bool overHttp)
    {
        using var originalStore = Persistence.InMemory();
        using var replicaStore = Persistence.InMemory();
        var original = (Notebook)new Notebook().Open(originalStore);
        var replica = (Notebook)new Notebook().Open(replicaStore);
        await using var host = overHttp ? await KestrelHost.StartAsync(app => app.MapNotificationLogs("/logs", [original])) : null;
        using var remote = host is null ? null : new RemoteNotificationLog(host.Combine("logs"), "Notebook");
        INotificationLog log = remote ?? (INotificationLog)original.NotificationLog;

        var replicator = new Replicator(log, replica);
        var a1 = original.Write("one");
        var a2 = original.Write("two");
        var a3 = original.Write("three");
        Assert.All(new[] { a1, a2, a3 }, id => Assert.True(original.Repository.Contains(id)));
        Assert.All(new[] { a1, a2, a3 }, id => Assert.False(replica.Repository.Contains(id)));

        Assert.Equal(3, replicator.Run());
        foreach (var id in new[] { a1, a2, a3 })
        {
            Assert.True(replica.Repository.Contains(id));
            Assert.Equal(original.Get(id).Text, replica.Get(id).Text);
            Assert.Equal(original.Get(id).CreatedOn, replica.Get(id).CreatedOn);
        }

        var a4 = original.Write("four");
        Assert.False(replica.Repository.Contains(a4));
        Assert.Equal(1, replicator.Run());
        Assert.Equal("four", replica.Get(a4).Text);
        Assert.Equal(0, replicator.Run());

        replicator = new Replicator(log, replica); // the position in the original's log is lost
        Assert.Equal(4, replicator.Position);
        var a5 = original.Write("five");
        original.Edit(a1, "one, edited");
        Assert.False(replica.Repository.Contains(a5));
        Assert.Equal(2, replicator.Run());
        Assert.Equal("five", replica.Get(a5).Text);
        Assert.Equal("one, edited", replica.Get(a1).Text);
        Assert.Equal(2, replica.Get(a1).Version);

        AssertSameLog(original.NotificationLog, replica.NotificationLog, 6);
    }

    [Fact]
    public void Saves_prompt_the_replicator_when_subscribed()
    {
        using var originalStore = Persistence.InMemory();
        using var replicaStore = Persistence.InMemory();
        var original = (Notebook)new Notebook().Open(originalStore);
        var replica = (Notebook)new Notebook().Open(replicaStore);
        var replicator = new Replicator(original.NotificationLog, replica);
        var before = original.Write("before");

        Guid during;
        using (AutoReplication.Start(replicator))
        {
            during = original.Write("during");
            Assert.True(replica.Repository.Contains(before)); // the prompt also caught up on the earlier note
            Assert.True(replica.Repository.Contains(during));
        }
        var after = original.Write("after");
        Assert.False(replica.Repository.Contains(after));
        Assert.Equal(1, replicator.Run());
        AssertSameLog(original.NotificationLog, replica.NotificationLog, 3);
    }

    [Fact]
    public async Task Demo_command_runs_locally_and_over_http()
    {
        using var output = new StringWriter();
        await Demo.RunAsync(overHttp: false, output);
        await Demo.RunAsync(overHttp: true, output);
        Assert.Contains("identical to the original's", output.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Two_replicators_at_once_duplicate_nothing(bool overHttp)
    {
        using var originalStore = Persistence.InMemory();
        var original = (Notebook)new Notebook().Open(originalStore);
        var ids = new List<Guid>();
        for (var i = 0; i < 1_500; i++) ids.Add(original.Write("note " + i));
        await using var host = overHttp ? await KestrelHost.StartAsync(app => app.MapNotificationLogs("/logs", [original])) : null;
        INotificationLog Log() => host is null ? original.NotificationLog : new RemoteNotificationLog(host.Combine("logs"), "Notebook");

        // Two replicators, each with its own connection to one replica database, as two processes would be.
        var directory = Path.Combine(Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(), "processdsl-replica-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var storeA = Persistence.Sqlite(directory, SqliteDurability.Off);
            using var storeB = Persistence.Sqlite(directory, SqliteDurability.Off);
            var replicaA = new Notebook().Open(storeA);
            var replicaB = new Notebook().Open(storeB);
            var one = new Replicator(Log(), replicaA) { BatchSize = 50 };
            var two = new Replicator(Log(), replicaB) { BatchSize = 70 };

            var writing = Task.Run(() =>
            {
                for (var i = 0; i < 300; i++) original.Edit(ids[i * 5], "edited " + i);
            });
            var racing = new[]
            {
                Task.Run(async () => { for (var round = 0; round < 20; round++) await one.RunAsync(); }),
                Task.Run(async () => { for (var round = 0; round < 20; round++) await two.RunAsync(); }),
            };
            await Task.WhenAll(racing.Append(writing)).WaitAsync(TimeSpan.FromMinutes(3));
            await one.RunAsync();
            await two.RunAsync();

            AssertSameLog(original.NotificationLog, replicaA.NotificationLog, 1_800);
            AssertSameLog(original.NotificationLog, replicaB.NotificationLog, 1_800);
            var notebook = (Notebook)replicaA;
            Assert.Equal("edited 7", notebook.Get(ids[35]).Text);
            Assert.Equal("note 1499", notebook.Get(ids[1499]).Text);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Copies_that_do_not_continue_the_replica_are_refused_clearly()
    {
        using var originalStore = Persistence.InMemory();
        using var replicaStore = Persistence.InMemory();
        var original = (Notebook)new Notebook().Open(originalStore);
        var replica = new Notebook().Open(replicaStore);
        for (var i = 0; i < 6; i++) original.Write("note " + i);
        var all = original.NotificationLog.Select(0, 10).Items;

        Assert.Equal(3, replica.AppendCopies([.. all.Take(3)]));
        var gap = Assert.Throws<InvalidOperationException>(() => replica.AppendCopies([all[4]]));
        Assert.Contains("start at notification 5, but its log ends at 3", gap.Message, StringComparison.Ordinal);
        var holes = Assert.Throws<InvalidOperationException>(() => replica.AppendCopies([all[3], all[5]]));
        Assert.Contains("contiguous", holes.Message, StringComparison.Ordinal);
        Assert.Throws<ConcurrencyException>(() => replica.AppendCopies([.. all.Skip(2)]));
        Assert.Equal(3, replica.NotificationLog.MaxNotificationId);
        Assert.Equal(6, replica.AppendCopies([.. all.Skip(3)]));
    }

    private static void AssertSameLog(NotificationLog expected, NotificationLog actual, int count)
    {
        var want = expected.Select(0, 100_000).Items;
        var got = actual.Select(0, 100_000).Items;
        Assert.Equal(count, want.Count);
        Assert.Equal(want.Count, got.Count);
        for (var i = 0; i < want.Count; i++)
        {
            Assert.Equal(want[i].Id, got[i].Id);
            Assert.Equal(want[i].OriginatorId, got[i].OriginatorId);
            Assert.Equal(want[i].OriginatorVersion, got[i].OriginatorVersion);
            Assert.Equal(want[i].Topic, got[i].Topic);
            Assert.Equal(want[i].State, got[i].State);
        }
    }
}
