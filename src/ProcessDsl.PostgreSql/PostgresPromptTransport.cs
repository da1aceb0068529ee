using Npgsql;

namespace ProcessDsl;

/// <summary>
/// Prompts between processes (and machines) sharing a PostgreSQL store, over <c>LISTEN/NOTIFY</c>.
/// The store's appends already send <c>NOTIFY</c> in their transactions, so
/// <see cref="Announce"/> does nothing unless <see cref="PostgresOptions.Notify"/> is off; listening
/// uses one <see cref="PostgresPromptListener"/> per database of the upstreams, shared by all the
/// followers of this process.
/// </summary>
internal sealed class PostgresPromptTransport : PromptTransport
{
    private readonly PostgresPersistence _store;
    private readonly Dictionary<string, Shared> _listeners = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private bool _disposed;

    public PostgresPromptTransport(PostgresPersistence store) => _store = store;

    public override void Announce(string application, long notificationId)
    {
        // With Notify on, the append transaction has sent this prompt already (and only if it committed).
        if (_store.Options.Notify || _disposed) return;
        try
        {
            using var connection = new NpgsqlConnection(_store.ConnectionStringOf(application));
            connection.Open();
            using var command = new NpgsqlCommand("SELECT pg_notify(@channel, @payload)", connection);
            command.Parameters.AddWithValue("channel", _store.Options.NotifyChannel);
            command.Parameters.AddWithValue("payload", PostgresPromptListener.Payload(application, notificationId));
            command.ExecuteNonQuery();
        }
        catch (NpgsqlException)
        {
            // A hint lost: followers poll.
        }
    }

    public override void Listen(string follower, IReadOnlyCollection<string> upstreams, Action<string, long> onPrompt)
    {
        ArgumentNullException.ThrowIfNull(upstreams);
        ArgumentNullException.ThrowIfNull(onPrompt);
        foreach (var group in upstreams.GroupBy(DatabaseKey, StringComparer.Ordinal))
        {
            var wanted = group.ToHashSet(StringComparer.Ordinal);
            void Handle(string? application, long id)
            {
                if (application is null)
                {
                    foreach (var upstream in wanted) onPrompt(upstream, 0); // reconnected: look at everything
                }
                else if (wanted.Contains(application))
                {
                    onPrompt(application, id);
                }
            }

            lock (_lock)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                if (!_listeners.TryGetValue(group.Key, out var shared))
                {
                    shared = new Shared(_store.CreatePromptListener(group.First()));
                    _listeners[group.Key] = shared;
                    shared.Add(Handle);
                    shared.Listener.Start(shared.Deliver);
                }
                else
                {
                    shared.Add(Handle);
                }
            }
        }
    }

    protected override void Dispose(bool disposing)
    {
        Shared[] listeners;
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            listeners = [.. _listeners.Values];
            _listeners.Clear();
        }
        foreach (var shared in listeners) shared.Listener.Dispose();
    }

    /// <summary>Upstreams in one database share a listener (NOTIFY is per database, whatever the schema).</summary>
    private string DatabaseKey(string application)
    {
        var builder = new NpgsqlConnectionStringBuilder(_store.ConnectionStringOf(application));
        return $"{builder.Host}|{builder.Port}|{builder.Database}|{builder.Username}";
    }

    private sealed class Shared(PostgresPromptListener listener)
    {
        private readonly Lock _lock = new();
        private volatile Action<string?, long>[] _handlers = [];

        public PostgresPromptListener Listener { get; } = listener;

        public void Add(Action<string?, long> handler)
        {
            lock (_lock) _handlers = [.. _handlers, handler];
        }

        public void Deliver(string? application, long id)
        {
            foreach (var handler in _handlers) handler(application, id);
        }
    }
}
