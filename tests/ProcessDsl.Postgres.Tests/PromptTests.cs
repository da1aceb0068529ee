using System.Collections.Concurrent;
using Npgsql;
using ProcessDsl.Postgres.Tests.Support;

namespace ProcessDsl.Postgres.Tests;

/// <summary>Cross-process prompts over LISTEN/NOTIFY.</summary>
public sealed class PromptTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [PostgresFact]
    public async Task Appends_notify_in_their_transaction_and_a_failed_append_does_not()
    {
        using var test = TestStore.Create(StoreLocation.Postgres);
        var store = (PostgresPersistence)test.Open();
        var bank = test.OpenBank(store);
        var prompts = new BlockingCollection<(string? Application, long Id)>();
        await using var listener = store.CreatePromptListener("Bank");
        listener.Start((application, id) => prompts.Add((application, id)));
        await listener.Listening.WaitAsync(Wait);
        Assert.Equal((null, 0L), Take(prompts)); // connected: "look at everything"

        bank.Save(Account.Open("a"), Account.Open("b"), Account.Open("c"));
        Assert.Equal(("Bank", 3L), Take(prompts)); // the newest id of the append

        var id = bank.OpenAccount("d");
        Assert.Equal(("Bank", 4L), Take(prompts));
        var stale = test.OpenBank(test.Open()).Repository.Get<Account>(id);
        bank.Deposit(id, 1);
        Assert.Equal(("Bank", 5L), Take(prompts));
        stale.Deposit(2);
        Assert.Throws<ConcurrencyException>(() => test.OpenBank(test.Open()).Save(stale));
        Assert.False(prompts.TryTake(out var unexpected, TimeSpan.FromMilliseconds(500)), $"a rolled-back append prompted {unexpected}");

        bank.OpenAccount("e");
        Assert.Equal(("Bank", 6L), Take(prompts));
    }

    [PostgresFact]
    public async Task A_listener_receives_the_prompts_of_a_writer_in_another_process_in_commit_order()
    {
        using var test = TestStore.Create(StoreLocation.Postgres);
        var store = (PostgresPersistence)test.Open();
        test.OpenBank(store); // tables
        var prompts = new BlockingCollection<(string? Application, long Id)>();
        await using var listener = store.CreatePromptListener("Bank");
        listener.Start((application, id) => prompts.Add((application, id)));
        await listener.Listening.WaitAsync(Wait);
        Assert.Equal((null, 0L), Take(prompts));

        using var child = ChildProcess.Start(["write"], test.Location.ToArgs(), ["20", "x"]);
        await child.WaitReadyAsync(Wait);
        child.Send("go");
        await child.WaitSuccessAsync(Wait);
        var received = Enumerable.Range(0, 20).Select(_ => Take(prompts)).ToList();
        Assert.Equal(Enumerable.Range(1, 20).Select(i => ("Bank", (long)i)), received.Select(p => (p.Application!, p.Id)));
    }

    [PostgresFact]
    public async Task A_listener_whose_connection_is_cut_reconnects_and_says_to_look_at_everything()
    {
        using var test = TestStore.Create(StoreLocation.Postgres);
        var store = (PostgresPersistence)test.Open();
        var bank = test.OpenBank(store);
        var name = "listener_" + Guid.NewGuid().ToString("N")[..8];
        var prompts = new BlockingCollection<(string? Application, long Id)>();
        var connectionString = new NpgsqlConnectionStringBuilder(store.ConnectionStringOf("Bank")) { ApplicationName = name }.ConnectionString;
        await using var listener = new PostgresPromptListener(connectionString, test.Location.Schema!) { MaxReconnectDelay = TimeSpan.FromMilliseconds(200) };
        listener.Start((application, id) => prompts.Add((application, id)));
        await listener.Listening.WaitAsync(Wait);
        Assert.Equal((null, 0L), Take(prompts));

        PostgresServer.Execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = @name", ("name", name));
        bank.OpenAccount("while reconnecting, perhaps missed");
        // (null, 0) must come; the prompt of notification 1 may come before it, after it, or never.
        var seen = new List<(string? Application, long Id)>();
        do seen.Add(Take(prompts));
        while (seen[^1] != (null, 0L));
        Assert.All(seen.SkipLast(1), prompt => Assert.Equal(("Bank", 1L), prompt));
        Assert.Equal(2, listener.Connections);

        bank.OpenAccount("after");
        // Prompts are hints: the one of notification 1 may arrive on both sides of the reconnect.
        var next = Take(prompts);
        while (next == ("Bank", 1L)) next = Take(prompts);
        Assert.Equal(("Bank", 2L), next);
    }

    [PostgresFact]
    public async Task A_follower_in_this_process_is_prompted_by_a_writer_in_another_process_long_before_it_would_poll()
    {
        using var test = TestStore.Create(StoreLocation.Postgres);
        var options = new RunnerOptions { PollInterval = TimeSpan.FromMinutes(10), Applications = ["Audit"] };
        await using var runner = new MultiThreadedRunner(AuditSystem.Definition, test.Open(), options);
        await runner.StartAsync();
        await runner.WaitUntilIdleAsync(Wait);
        var audit = runner.Get<Audit>();
        Assert.Equal(0, audit.NotificationLog.MaxNotificationId);

        using var child = ChildProcess.Start(["write"], test.Location.ToArgs(), ["50", "remote"]);
        await child.WaitReadyAsync(Wait);
        child.Send("go");
        await child.WaitSuccessAsync(Wait);
        var deadline = DateTime.UtcNow + Wait;
        while (audit.NotificationLog.MaxNotificationId < 50 && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.Equal(50, audit.NotificationLog.MaxNotificationId);
    }

    [PostgresFact]
    public void Notify_channels_are_validated_identifiers()
    {
        var cs = PostgresServer.ConnectionString!;
        Assert.Throws<ArgumentException>(() => Persistence.Postgres(cs, new PostgresOptions { NotifyChannel = "Bad Channel" }));
        Assert.Throws<ArgumentException>(() => new PostgresPromptListener(cs, "x\"; DROP TABLE y; --"));
        Assert.True(PostgresPromptListener.TryParse(PostgresPromptListener.Payload("Orders", 42), out var application, out var id));
        Assert.Equal(("Orders", 42L), (application, id));
        Assert.False(PostgresPromptListener.TryParse("no-id", out _, out _));
        Assert.False(PostgresPromptListener.TryParse("Orders:-1", out _, out _));
        Assert.False(PostgresPromptListener.TryParse(":5", out _, out _));
    }

    private static (string? Application, long Id) Take(BlockingCollection<(string? Application, long Id)> prompts) =>
        prompts.TryTake(out var prompt, Wait) ? prompt : throw new TimeoutException($"no prompt within {Wait}");
}
