using ProcessDsl;

namespace EmailIndexSample;

/// <summary>The email-index scenario of the Python eventsourcing documentation, step by step, with its checks.</summary>
public static class Scenario
{
    /// <summary>Runs the scenario on a runner of <see cref="EmailIndexSystem"/>; throws if a check fails.</summary>
    public static async Task RunAsync(Runner runner, TextWriter output)
    {
        var users = runner.Get<Users>();
        var index = runner.Get<EmailIndex>();
        async Task Idle() => await runner.WaitUntilIdleAsync(TimeSpan.FromSeconds(30));

        var user1 = users.Register();
        await Idle();
        Check(users.Repository.Contains(user1) && !index.Repository.Contains(user1), "the user is in Users, not in the index");

        users.AddEmailAddress(user1, "me@example.com");
        await Idle();
        Check(!users.GetUser(user1).EmailAddresses["me@example.com"].IsVerified, "the address is not verified yet");
        var key = EmailIndex.KeyOf("me@example.com");
        Check(!index.Repository.Contains(key), "an unverified address is not indexed");

        users.VerifyEmailAddress(user1, "me@example.com");
        await Idle();
        Check(users.GetUser(user1).EmailAddresses["me@example.com"].IsVerified, "the address is verified");
        Check(index.FindUser("me@example.com") == user1, "the verified address is indexed to the user");
        output.WriteLine($"me@example.com -> {index.FindUser("me@example.com")} (entry {key})");

        users.AddEmailAddress(user1, "me@example.com");
        users.VerifyEmailAddress(user1, "me@example.com");
        await Idle();
        Check(index.FindUser("me@example.com") == user1, "re-verifying keeps the address indexed to the user");
        Check(index.Repository.Get<IndexItem>(key).Version == 2, "re-verifying keeps one entry, written once more");

        Check(index.FindUser("mycat@example.com") is null, "another address is not indexed");
        users.AddEmailAddress(user1, "mycat@example.com");
        users.VerifyEmailAddress(user1, "mycat@example.com");
        await Idle();
        Check(index.FindUser("mycat@example.com") == user1, "the second verified address is indexed");
        Check(users.Repository.Contains(user1) && !index.Repository.Contains(user1), "the user is still only in Users");
        output.WriteLine($"mycat@example.com -> {index.FindUser("mycat@example.com")}");
        output.WriteLine($"index log: {index.NotificationLog.MaxNotificationId} notifications (one per verification)");
    }

    private static void Check(bool condition, string what)
    {
        if (!condition) throw new InvalidOperationException("Email index scenario failed: expected " + what + ".");
    }
}
