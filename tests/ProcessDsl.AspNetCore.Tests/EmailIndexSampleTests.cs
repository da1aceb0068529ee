using EmailIndexSample;
using ProcessDsl.AspNetCore.Tests.Support;

namespace ProcessDsl.AspNetCore.Tests;

/// <summary>The seeds' index of verified email addresses.</summary>
public sealed class EmailIndexSampleTests
{
    [Fact]
    public void Keys_are_the_name_based_uuids_of_the_addresses()
    {
        // uuid5(NAMESPACE_URL, address), as Python's uuid module computes it.
        Assert.Equal(new Guid("56f287f3-e9c0-53eb-8e9a-611ece056cc2"), EmailIndex.KeyOf("me@example.com"));
        Assert.Equal(new Guid("e875d634-a352-5210-bc17-7db0de9d23c7"), EmailIndex.KeyOf("mycat@example.com"));
    }

    [Fact]
    public async Task Seed_scenario_single_threaded()
    {
        using var store = Persistence.InMemory();
        await using var runner = new SingleThreadedRunner(EmailIndexSystem.Definition, store);
        await runner.StartAsync();
        var users = runner.Get<Users>();
        var index = runner.Get<EmailIndex>();

        var user1 = users.Register();
        Assert.True(users.Repository.Contains(user1));
        Assert.False(index.Repository.Contains(user1));

        users.AddEmailAddress(user1, "me@example.com");
        Assert.False(users.GetUser(user1).EmailAddresses["me@example.com"].IsVerified);
        var key = EmailIndex.KeyOf("me@example.com");
        Assert.False(index.Repository.Contains(key));

        users.VerifyEmailAddress(user1, "me@example.com");
        Assert.True(users.GetUser(user1).EmailAddresses["me@example.com"].IsVerified);
        Assert.True(index.Repository.Contains(key));
        Assert.Equal(user1, index.Repository.Get<IndexItem>(key).IndexValue);

        users.AddEmailAddress(user1, "me@example.com");
        users.VerifyEmailAddress(user1, "me@example.com");
        Assert.True(index.Repository.Contains(key));
        Assert.Equal(user1, index.Repository.Get<IndexItem>(key).IndexValue);

        Assert.False(index.Repository.Contains(EmailIndex.KeyOf("mycat@example.com")));
        users.AddEmailAddress(user1, "mycat@example.com");
        users.VerifyEmailAddress(user1, "mycat@example.com");
        Assert.True(index.Repository.Contains(EmailIndex.KeyOf("mycat@example.com")));

        Assert.True(users.Repository.Contains(user1));
        Assert.False(index.Repository.Contains(user1));
    }

    [Fact]
    public async Task Seed_scenario_multi_threaded()
    {
        using var store = Persistence.InMemory();
        await using var runner = new MultiThreadedRunner(EmailIndexSystem.Definition, store);
        await runner.StartAsync();
        using var output = new StringWriter();
        await Scenario.RunAsync(runner, output);
        await runner.StopAsync();
    }

    [Fact]
    public async Task Re_verifying_keeps_one_entry_written_once_per_verification()
    {
        using var store = Persistence.InMemory();
        await using var runner = new SingleThreadedRunner(EmailIndexSystem.Definition, store);
        await runner.StartAsync();
        var users = runner.Get<Users>();
        var index = runner.Get<EmailIndex>();
        var user = users.Register();
        users.AddEmailAddress(user, "me@example.com");
        users.AddEmailAddress(user, "other@example.com");

        for (var i = 0; i < 5; i++) users.VerifyEmailAddress(user, "me@example.com");

        var entries = index.NotificationLog.Select(0, 100).Items;
        Assert.Equal(5, entries.Count);
        Assert.All(entries, n => Assert.Equal(EmailIndex.KeyOf("me@example.com"), n.OriginatorId));
        Assert.Equal(Enumerable.Range(1, 5).Select(v => (long)v), entries.Select(n => n.OriginatorVersion));
        Assert.Equal(5, index.Repository.Get<IndexItem>(EmailIndex.KeyOf("me@example.com")).Version);
        Assert.Null(index.FindUser("other@example.com"));

        // Another user verifying the same address takes the entry over; still one entry.
        var user2 = users.Register();
        users.AddEmailAddress(user2, "me@example.com");
        users.VerifyEmailAddress(user2, "me@example.com");
        Assert.Equal(user2, index.FindUser("me@example.com"));
        Assert.Single(index.NotificationLog.Select(0, 100).Items.Select(n => n.OriginatorId).Distinct());
    }

    [Fact]
    public async Task The_index_follows_users_on_another_host_over_http()
    {
        using var usersStore = Persistence.InMemory();
        using var indexStore = Persistence.InMemory();
        await using var usersHost = new SingleThreadedRunner(EmailIndexSystem.Definition, usersStore);
        await usersHost.StartAsync();
        var users = usersHost.Get<Users>();
        await using var server = await KestrelHost.StartAsync(app => app.MapNotificationLogs("/logs", [users]));
        using var remoteUsers = new RemoteNotificationLog(server.Combine("logs"), "Users");
        await using var indexHost = new MultiThreadedRunner(EmailIndexSystem.Definition, indexStore, new RunnerOptions
        {
            UpstreamLogs = new Dictionary<string, INotificationLog> { ["Users"] = remoteUsers },
            PollInterval = TimeSpan.FromMilliseconds(20),
        });
        await indexHost.StartAsync();
        var index = indexHost.Get<EmailIndex>();

        var ids = new List<Guid>();
        for (var i = 0; i < 50; i++)
        {
            var user = users.Register();
            users.AddEmailAddress(user, $"user{i}@example.com");
            users.VerifyEmailAddress(user, $"user{i}@example.com");
            ids.Add(user);
        }
        await indexHost.WaitUntilIdleAsync(TimeSpan.FromSeconds(60));

        for (var i = 0; i < 50; i++) Assert.Equal(ids[i], index.FindUser($"user{i}@example.com"));
        Assert.Equal(50, index.NotificationLog.MaxNotificationId);
        await indexHost.StopAsync();
    }
}
