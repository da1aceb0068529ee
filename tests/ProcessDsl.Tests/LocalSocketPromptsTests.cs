namespace ProcessDsl.Tests;

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // folder modes and Unix sockets
public sealed class LocalSocketPromptsTests
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    [Fact]
    public async Task Prompts_reach_followers_with_long_application_names_through_owner_only_folders()
    {
        var upstream = "AnUpstreamApplicationOf30Chars";
        var follower = "AFollowingApplicationOf30Chars";
        Assert.Equal(30, upstream.Length);
        Assert.Equal(30, follower.Length);
        var storeKey = "sqlite:" + Path.Combine(Path.GetTempPath(), new string('d', 120), Guid.NewGuid().ToString("N"));
        using var listener = new LocalSocketPrompts(storeKey);
        using var announcer = new LocalSocketPrompts(storeKey);
        var received = new TaskCompletionSource<(string, long)>(TaskCreationOptions.RunContinuationsAsynchronously);
        listener.Listen(follower, [upstream], (from, id) => received.TrySetResult((from, id)));

        var socket = Assert.Single(Directory.GetFiles(listener.FolderOf(upstream), "*.sock"));
        Assert.True(System.Text.Encoding.UTF8.GetByteCount(socket) < 104, $"{socket} is too long for a Unix socket address");
        Assert.DoesNotContain(upstream, socket);
        Assert.DoesNotContain(follower, socket);
        Assert.Equal(OwnerOnly, File.GetUnixFileMode(listener.Root));
        Assert.Equal(OwnerOnly, File.GetUnixFileMode(listener.FolderOf(upstream)));

        // A prompt is a hint and a datagram may be missed: announce until one arrives.
        while (!received.Task.IsCompleted)
        {
            announcer.Announce(upstream, 42);
            await Task.WhenAny(received.Task, Task.Delay(50));
        }
        Assert.Equal((upstream, 42L), await received.Task);
        listener.Dispose();
        announcer.Dispose();
        Directory.Delete(listener.Root, recursive: true);
    }

    [Fact]
    public async Task A_transport_prompts_the_listeners_of_other_transports_but_not_its_own()
    {
        // Its own runner prompts its followers in-process on the same save; a second runner in the
        // same process (another transport) must still hear it.
        var storeKey = "sqlite:/" + Guid.NewGuid().ToString("N");
        using var first = new LocalSocketPrompts(storeKey);
        using var second = new LocalSocketPrompts(storeKey);
        var heardByFirst = 0;
        var heardBySecond = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        first.Listen("Follower", ["Upstream"], (_, _) => Interlocked.Increment(ref heardByFirst));
        second.Listen("Follower", ["Upstream"], (_, id) => heardBySecond.TrySetResult(id));
        try
        {
            while (!heardBySecond.Task.IsCompleted)
            {
                first.Announce("Upstream", 7);
                await Task.WhenAny(heardBySecond.Task, Task.Delay(50));
            }
            Assert.Equal(7, await heardBySecond.Task);
            await Task.Delay(200);   // a datagram to its own socket would have come as soon
            Assert.Equal(0, Volatile.Read(ref heardByFirst));

            // The other way round, the first is prompted as usual.
            while (Volatile.Read(ref heardByFirst) == 0)
            {
                second.Announce("Upstream", 8);
                await Task.Delay(50);
            }
        }
        finally
        {
            first.Dispose();
            second.Dispose();
            Directory.Delete(first.Root, recursive: true);
        }
    }

    [Fact]
    public void An_existing_prompt_folder_open_to_others_is_made_owner_only()
    {
        using var prompts = new LocalSocketPrompts("sqlite:/" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(prompts.Root);
        File.SetUnixFileMode(prompts.Root, OwnerOnly | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute);
        try
        {
            prompts.Listen("Follower", ["Upstream"], (_, _) => { });
            Assert.Equal(OwnerOnly, File.GetUnixFileMode(prompts.Root));
        }
        finally
        {
            prompts.Dispose();
            Directory.Delete(prompts.Root, recursive: true);
        }
    }
}
