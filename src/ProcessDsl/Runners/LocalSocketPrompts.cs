using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace ProcessDsl;

/// <summary>
/// Prompts between processes on one machine over Unix-domain datagram sockets: each listening
/// follower binds a socket file under a folder per store and upstream; an announcing writer sends a
/// small datagram to every socket there. Sends never block (a full receiver just misses a hint) and
/// sockets of processes that died are removed by the next writer that finds them refused.
/// </summary>
internal sealed class LocalSocketPrompts : PromptTransport
{
    private static readonly TimeSpan ListingLifetime = TimeSpan.FromMilliseconds(250);
    private readonly string _root;
    private readonly Socket _sender;
    private readonly List<(Socket Socket, string Path, CancellationTokenSource Stop)> _listeners = [];
    private readonly Dictionary<string, (DateTime Until, string[] Paths)> _listings = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private bool _disposed;

    public LocalSocketPrompts(string storeKey)
    {
        // A Unix socket path has a limit of 108 bytes (104 on macOS), so names never appear in it:
        // <temp>/pdsl-<user and store hash>/<upstream hash>/<follower hash>.<pid>.<random>.sock is
        // about 60 bytes plus the temp folder, whatever the application names.
        _root = Path.Combine(Path.GetTempPath(), "pdsl-" + Hash(Environment.UserName + "\n" + storeKey, 12));
        _sender = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified) { Blocking = false };
    }

    /// <summary>The folder of this store's sockets (owner-only: other local users can neither prompt nor listen).</summary>
    internal string Root => _root;

    /// <summary>The socket folder of an upstream application.</summary>
    internal string FolderOf(string upstream) => Path.Combine(_root, Hash(upstream, 8));

    public static bool IsSupported => Socket.OSSupportsUnixDomainSockets;

    /// <summary>
    /// Sends a prompt to every socket listening to <paramref name="application"/>, except this
    /// transport's own: the runner that owns it prompts its followers in-process on the same save.
    /// </summary>
    public override void Announce(string application, long notificationId)
    {
        if (_disposed) return;
        var payload = Encoding.UTF8.GetBytes(application + "\n" + notificationId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var path in Listing(application))
        {
            try
            {
                _sender.SendTo(payload, new UnixDomainSocketEndPoint(path));
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionRefused or SocketError.AddressNotAvailable)
            {
                // The listener's process is gone: remove its socket file.
                TryDelete(path);
                lock (_lock) _listings.Remove(application);
            }
            catch (SocketException)
            {
                // Would block, or the file vanished: a hint lost, the follower's poll covers it.
            }
        }
    }

    public override void Listen(string follower, IReadOnlyCollection<string> upstreams, Action<string, long> onPrompt)
    {
        foreach (var upstream in upstreams)
        {
            var folder = FolderOf(upstream);
            CreatePrivateFolder(_root);
            CreatePrivateFolder(folder);
            var path = Path.Combine(folder, $"{Hash(follower, 8)}.{Environment.ProcessId}.{Guid.NewGuid().ToString("N")[..6]}.sock");
            var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            socket.Bind(new UnixDomainSocketEndPoint(path));
            var stop = new CancellationTokenSource();
            lock (_lock) _listeners.Add((socket, path, stop));
            _ = Task.Run(() => ReceiveAsync(socket, onPrompt, stop.Token));
        }
    }

    private static async Task ReceiveAsync(Socket socket, Action<string, long> onPrompt, CancellationToken cancellationToken)
    {
        var buffer = new byte[256];
        while (!cancellationToken.IsCancellationRequested)
        {
            int received;
            try
            {
                received = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            var text = Encoding.UTF8.GetString(buffer, 0, received);
            var newline = text.IndexOf('\n');
            if (newline <= 0 || !long.TryParse(text.AsSpan(newline + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id))
                continue; // not one of ours: ignore
            onPrompt(text[..newline], id);
        }
    }

    private string[] Listing(string application)
    {
        lock (_lock)
        {
            if (_listings.TryGetValue(application, out var cached) && cached.Until > DateTime.UtcNow) return cached.Paths;
            var folder = FolderOf(application);
            // Not this transport's own sockets: its runner prompts those followers in-process, so a
            // datagram to them would only cost a wake-up per save.
            var paths = Directory.Exists(folder) ? Directory.GetFiles(folder, "*.sock").Where(p => !_listeners.Exists(l => l.Path == p)).ToArray() : [];
            _listings[application] = (DateTime.UtcNow + ListingLifetime, paths);
            return paths;
        }
    }

    private static string Hash(string text, int length) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..length];

    /// <summary>Creates a folder only its owner may enter (0700), or makes an existing one so.</summary>
    private static void CreatePrivateFolder(string path)
    {
        const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }
        Directory.CreateDirectory(path, OwnerOnly); // the mode applies when it is created (less the umask, which only narrows it)
        if (File.GetUnixFileMode(path) != OwnerOnly)
        {
            try
            {
                File.SetUnixFileMode(path, OwnerOnly);
            }
            catch (UnauthorizedAccessException ex)
            {
                throw new UnauthorizedAccessException($"The prompt folder {path} belongs to another user and is open to others; remove it, or set TMPDIR to a folder of your own.", ex);
            }
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (_disposed) return;
        _disposed = true;
        lock (_lock)
        {
            foreach (var (socket, path, stop) in _listeners)
            {
                stop.Cancel();
                socket.Dispose();
                stop.Dispose();
                TryDelete(path);
            }
            _listeners.Clear();
        }
        _sender.Dispose();
    }
}
