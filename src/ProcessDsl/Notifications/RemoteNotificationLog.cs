namespace ProcessDsl;

/// <summary>
/// An application's notification log on another host, read over HTTP from an endpoint that serves
/// sections as JSON (see <see cref="SectionJson"/>; the ASP.NET Core package maps one with
/// <c>MapNotificationLogs</c>). It has the interface of the local <see cref="NotificationLog"/>, so
/// a <see cref="NotificationLogReader"/> reads it, and a follower follows it when it is named in
/// <see cref="RunnerOptions.UpstreamLogs"/>.
/// </summary>
/// <remarks>
/// Sections are requested at <c>{baseAddress}/{application}/{sectionId}</c>. Transient failures
/// (connection refused or reset, timeouts, 408, 429, 5xx) are retried with backoff up to
/// <see cref="RemoteNotificationLogOptions.MaxAttempts"/> times; a section that is not well formed,
/// or larger than <see cref="RemoteNotificationLogOptions.MaxResponseBytes"/>, raises
/// <see cref="RemoteNotificationLogException"/> naming the URL and the fault. The section that is
/// still filling is revalidated with <c>If-None-Match</c>, so polling an idle log costs a
/// <c>304</c>. <see cref="Select"/> and <see cref="SelectAsync"/> walk sections and filter topics on
/// this side. Instances are safe to share between threads; the synchronous members block on the
/// asynchronous ones.
/// </remarks>
public sealed class RemoteNotificationLog : INotificationLog, IDisposable
{
    private readonly RemoteSectionClient _client;
    private readonly RemoteSectionValidator _validator;
    private readonly RemoteReadAhead _readAhead;
    private int _disposed;

    /// <summary>Creates a remote log of <paramref name="application"/> served under <paramref name="baseAddress"/>.</summary>
    /// <param name="baseAddress">Where the logs are served, e.g. <c>http://host:5080/logs</c>.</param>
    /// <param name="application">The application whose log to read, e.g. <c>Orders</c>.</param>
    /// <param name="options">Token, section size, retries, limits; defaults when null.</param>
    /// <param name="httpClient">The client to send requests with (not disposed by this log); a new one when null.</param>
    public RemoteNotificationLog(Uri baseAddress, string application, RemoteNotificationLogOptions? options = null, HttpClient? httpClient = null)
    {
        ArgumentNullException.ThrowIfNull(baseAddress);
        ArgumentException.ThrowIfNullOrEmpty(application);
        if (!baseAddress.IsAbsoluteUri || (baseAddress.Scheme != Uri.UriSchemeHttp && baseAddress.Scheme != Uri.UriSchemeHttps))
            throw new ArgumentException($"The base address '{baseAddress}' is not an absolute http or https URL.", nameof(baseAddress));
        Options = options ?? new RemoteNotificationLogOptions();
        Options.Validate();
        Application = application;
        BaseAddress = baseAddress;
        var root = baseAddress.AbsoluteUri.EndsWith('/') ? baseAddress.AbsoluteUri : baseAddress.AbsoluteUri + "/";
        LogAddress = new Uri(root + Uri.EscapeDataString(application) + "/");
        _client = new RemoteSectionClient(application, Options, httpClient);
        _validator = new RemoteSectionValidator(application, Options);
        _readAhead = new RemoteReadAhead(Options.ReadAhead, (id, token) => FetchAsync(id, token, attempts: 1));
    }

    /// <inheritdoc/>
    public string Application { get; }

    /// <summary>The address of this log: sections are requested relative to it.</summary>
    public Uri LogAddress { get; }

    /// <summary>The address the logs are served under, as given.</summary>
    internal Uri BaseAddress { get; }

    /// <summary>The settings, as given.</summary>
    internal RemoteNotificationLogOptions Options { get; }

    /// <inheritdoc/>
    /// <remarks>When not given in the options, the first use asks the server for its current section.</remarks>
    public int SectionSize => _validator.SectionSize is var size and not 0 ? size : Wait(EnsureSectionSizeAsync(CancellationToken.None));

    /// <inheritdoc/>
    public Section this[string sectionId] => Wait(GetSectionAsync(sectionId));

    /// <inheritdoc/>
    public async Task<Section> GetSectionAsync(string sectionId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sectionId);
        if (sectionId == SectionId.Current) return await FetchAsync(null, cancellationToken).ConfigureAwait(false);
        var parsed = SectionId.Parse(sectionId);
        var size = await EnsureSectionSizeAsync(cancellationToken).ConfigureAwait(false);
        return await GetNumberedAsync(parsed.Normalize(size), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public NotificationBatch Select(long after, int limit, IReadOnlySet<string>? topics = null) =>
        Wait(SelectAsync(after, limit, topics));

    /// <inheritdoc/>
    public async Task<NotificationBatch> SelectAsync(long after, int limit, IReadOnlySet<string>? topics = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(after);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var size = await EnsureSectionSizeAsync(cancellationToken).ConfigureAwait(false);
        var target = after > long.MaxValue - limit ? long.MaxValue : after + limit;
        var position = after;
        var items = new List<Notification>();
        if (after == long.MaxValue) return new NotificationBatch(items, position);
        var id = SectionId.Containing(after + 1, size);
        while (true)
        {
            var section = await GetNumberedAsync(id, cancellationToken).ConfigureAwait(false);
            foreach (var item in section.Items)
            {
                if (item.Id <= position) continue;
                if (item.Id > target) return new NotificationBatch(items, position);
                position = item.Id;
                if (topics is null || topics.Contains(item.Topic)) items.Add(item);
            }
            if (section.NextId is null || position >= target) return new NotificationBatch(items, position);
            id = SectionId.Parse(section.NextId);
        }
    }

    /// <summary>Releases the HTTP client if this log created it.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _readAhead.Dispose();
        _client.Dispose();
    }

    /// <inheritdoc/>
    public override string ToString() => $"RemoteNotificationLog({LogAddress})";

    /// <summary>A numbered section, from read-ahead when it is there and archived; keeps read-ahead going.</summary>
    private async Task<Section> GetNumberedAsync(SectionId id, CancellationToken cancellationToken)
    {
        var section = await _readAhead.TakeAsync(id, cancellationToken).ConfigureAwait(false)
            ?? await FetchAsync(id, cancellationToken).ConfigureAwait(false);
        if (section.IsArchived) _readAhead.After(id);
        return section;
    }

    private async Task<int> EnsureSectionSizeAsync(CancellationToken cancellationToken)
    {
        if (_validator.SectionSize is var size and not 0) return size;
        await FetchAsync(null, cancellationToken).ConfigureAwait(false);
        return _validator.SectionSize;
    }

    /// <summary>Requests one section (<c>current</c> when <paramref name="id"/> is null), with retries, and checks it.</summary>
    private Task<Section> FetchAsync(SectionId? id, CancellationToken cancellationToken, int attempts = 0) =>
        _client.GetAsync(new Uri(LogAddress, id?.ToString() ?? SectionId.Current), (uri, body) => _validator.Accept(uri, body, id), cancellationToken, attempts);

    // The synchronous interface blocks on the one asynchronous implementation (which never needs the caller's context).
    private static T Wait<T>(Task<T> task) => task.GetAwaiter().GetResult();
}
