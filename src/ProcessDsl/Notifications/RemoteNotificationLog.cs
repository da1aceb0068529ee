using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;

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
/// <see cref="RemoteNotificationLogOptions.MaxAttempts"/> times; a section that is not well formed
/// raises <see cref="RemoteNotificationLogException"/> naming the URL and the fault. The section
/// that is still filling is revalidated with <c>If-None-Match</c>, so polling an idle log costs a
/// <c>304</c>. <see cref="Select"/> and <see cref="SelectAsync"/> walk sections and filter topics on
/// this side. Instances are safe to share between threads.
/// </remarks>
public sealed class RemoteNotificationLog : INotificationLog, IDisposable
{
    private readonly HttpClient _client;
    private readonly bool _ownsClient;
    private readonly RemoteNotificationLogOptions _options;
    private readonly AuthenticationHeaderValue? _authorization;
    private int _sectionSize;
    private CachedSection? _cached;
    private readonly ConcurrentDictionary<long, Task<Section?>> _ahead = new();
    private readonly CancellationTokenSource _disposed = new();

    /// <summary>Creates a remote log of <paramref name="application"/> served under <paramref name="baseAddress"/>.</summary>
    /// <param name="baseAddress">Where the logs are served, e.g. <c>http://host:5080/logs</c>.</param>
    /// <param name="application">The application whose log to read, e.g. <c>Orders</c>.</param>
    /// <param name="options">Token, section size, retries; defaults when null.</param>
    /// <param name="httpClient">The client to send requests with (not disposed by this log); a new one when null.</param>
    public RemoteNotificationLog(Uri baseAddress, string application, RemoteNotificationLogOptions? options = null, HttpClient? httpClient = null)
    {
        ArgumentNullException.ThrowIfNull(baseAddress);
        ArgumentException.ThrowIfNullOrEmpty(application);
        if (!baseAddress.IsAbsoluteUri || (baseAddress.Scheme != Uri.UriSchemeHttp && baseAddress.Scheme != Uri.UriSchemeHttps))
            throw new ArgumentException($"The base address '{baseAddress}' is not an absolute http or https URL.", nameof(baseAddress));
        _options = options ?? new RemoteNotificationLogOptions();
        _options.Validate();
        Application = application;
        BaseAddress = baseAddress;
        var root = baseAddress.AbsoluteUri.EndsWith('/') ? baseAddress.AbsoluteUri : baseAddress.AbsoluteUri + "/";
        LogAddress = new Uri(root + Uri.EscapeDataString(application) + "/");
        _sectionSize = _options.SectionSize ?? 0;
        if (_options.BearerToken is not null) _authorization = new AuthenticationHeaderValue("Bearer", _options.BearerToken);
        if (httpClient is null)
        {
            _client = new HttpClient(new SocketsHttpHandler
            {
                PooledConnectionLifetime = TimeSpan.FromMinutes(2),
                ConnectTimeout = TimeSpan.FromSeconds(10),
                AutomaticDecompression = DecompressionMethods.None,
                UseCookies = false,
            })
            {
                Timeout = Timeout.InfiniteTimeSpan,
            };
            _ownsClient = true;
        }
        else
        {
            _client = httpClient;
        }
    }

    /// <inheritdoc/>
    public string Application { get; }

    /// <summary>The address the logs are served under, as given.</summary>
    internal Uri BaseAddress { get; }

    /// <summary>The settings, as given.</summary>
    internal RemoteNotificationLogOptions Options => _options;

    /// <summary>The address of this log: sections are requested relative to it.</summary>
    public Uri LogAddress { get; }

    /// <inheritdoc/>
    /// <remarks>When not given in the options, the first use asks the server for its current section.</remarks>
    public int SectionSize
    {
        get
        {
            var size = Volatile.Read(ref _sectionSize);
            return size != 0 ? size : EnsureSectionSizeAsync(sync: true, CancellationToken.None).GetAwaiter().GetResult();
        }
    }

    /// <inheritdoc/>
    public Section this[string sectionId] => GetSectionCoreAsync(sectionId, sync: true, CancellationToken.None).GetAwaiter().GetResult();

    /// <inheritdoc/>
    public Task<Section> GetSectionAsync(string sectionId, CancellationToken cancellationToken = default) =>
        GetSectionCoreAsync(sectionId, sync: false, cancellationToken).AsTask();

    /// <inheritdoc/>
    public NotificationBatch Select(long after, int limit, IReadOnlySet<string>? topics = null) =>
        SelectCoreAsync(after, limit, topics, sync: true, CancellationToken.None).GetAwaiter().GetResult();

    /// <inheritdoc/>
    public Task<NotificationBatch> SelectAsync(long after, int limit, IReadOnlySet<string>? topics = null, CancellationToken cancellationToken = default) =>
        SelectCoreAsync(after, limit, topics, sync: false, cancellationToken).AsTask();

    /// <summary>Releases the HTTP client if this log created it.</summary>
    public void Dispose()
    {
        if (_disposed.IsCancellationRequested) return;
        _disposed.Cancel();
        _ahead.Clear();
        if (_ownsClient) _client.Dispose();
        _disposed.Dispose();
    }

    /// <inheritdoc/>
    public override string ToString() => $"RemoteNotificationLog({LogAddress})";

    private async ValueTask<Section> GetSectionCoreAsync(string sectionId, bool sync, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sectionId);
        if (sectionId == SectionId.Current) return await FetchAsync(SectionId.Current, null, sync, cancellationToken).ConfigureAwait(false);
        var parsed = SectionId.Parse(sectionId);
        var size = await EnsureSectionSizeAsync(sync, cancellationToken).ConfigureAwait(false);
        return await GetNumberedAsync(parsed.Normalize(size), sync, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Gets a numbered section, from read-ahead when it is there and archived, and keeps read-ahead going.</summary>
    private async ValueTask<Section> GetNumberedAsync(SectionId id, bool sync, CancellationToken cancellationToken)
    {
        if (_options.ReadAhead > 0 && _ahead.TryRemove(id.First, out var pending))
        {
            Section? ahead = null;
            try
            {
                ahead = sync ? pending.GetAwaiter().GetResult() : await pending.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception)
            {
                // A failed read-ahead is requested again below, with retries and a clear error.
            }
            if (ahead is { IsArchived: true })
            {
                StartReadAhead(id);
                return ahead;
            }
        }
        var section = await FetchAsync(id.ToString(), id, sync, cancellationToken).ConfigureAwait(false);
        if (section.IsArchived) StartReadAhead(id);
        return section;
    }

    /// <summary>Requests the sections after an archived one, unless already requested.</summary>
    private void StartReadAhead(SectionId after)
    {
        if (_options.ReadAhead == 0 || _disposed.IsCancellationRequested) return;
        var size = after.Length;
        // Forget read-ahead a reader left behind (it moved elsewhere), so nothing accumulates.
        if (_ahead.Count > _options.ReadAhead * 4)
            foreach (var key in _ahead.Keys)
                if (key <= after.First || key > after.Last + size * _options.ReadAhead) _ahead.TryRemove(key, out _);
        var next = after;
        for (var i = 0; i < _options.ReadAhead; i++)
        {
            if (next.Last == long.MaxValue) return;
            next = SectionId.Containing(next.Last + 1, (int)size);
            if (_ahead.ContainsKey(next.First)) continue;
            var id = next;
            _ahead.TryAdd(id.First, Task.Run(async () =>
            {
                try
                {
                    return await FetchAsync(id.ToString(), id, sync: false, _disposed.Token, attempts: 1).ConfigureAwait(false);
                }
                catch (Exception)
                {
                    return null;
                }
            }));
        }
    }

    private async ValueTask<NotificationBatch> SelectCoreAsync(long after, int limit, IReadOnlySet<string>? topics, bool sync, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(after);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var size = await EnsureSectionSizeAsync(sync, cancellationToken).ConfigureAwait(false);
        var target = after > long.MaxValue - limit ? long.MaxValue : after + limit;
        var position = after;
        var items = new List<Notification>();
        if (after == long.MaxValue) return new NotificationBatch(items, position);
        var id = SectionId.Containing(after + 1, size);
        while (true)
        {
            var section = await GetNumberedAsync(id, sync, cancellationToken).ConfigureAwait(false);
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

    private async ValueTask<int> EnsureSectionSizeAsync(bool sync, CancellationToken cancellationToken)
    {
        var size = Volatile.Read(ref _sectionSize);
        if (size != 0) return size;
        await FetchAsync(SectionId.Current, null, sync, cancellationToken).ConfigureAwait(false);
        return Volatile.Read(ref _sectionSize);
    }

    /// <summary>Requests one section, retrying transient failures; checks what comes back.</summary>
    private async ValueTask<Section> FetchAsync(string sectionId, SectionId? expected, bool sync, CancellationToken cancellationToken, int attempts = 0)
    {
        var maxAttempts = attempts > 0 ? attempts : _options.MaxAttempts;
        var uri = new Uri(LogAddress, sectionId);
        string? lastFault = null;
        Exception? lastException = null;
        HttpStatusCode? lastStatus = null;
        for (var attempt = 1; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            TimeSpan? retryAfter = null;
            var cached = Volatile.Read(ref _cached);
            using (var request = new HttpRequestMessage(HttpMethod.Get, uri))
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                request.Headers.Authorization = _authorization;
                if (cached is not null && cached.Uri == uri) request.Headers.TryAddWithoutValidation("If-None-Match", cached.ETag);
                timeout.CancelAfter(_options.RequestTimeout);
                HttpResponseMessage? response = null;
                try
                {
                    response = sync
                        ? SendSync(request, timeout.Token)
                        : await _client.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token).ConfigureAwait(false);
                    lastStatus = response.StatusCode;
                    var status = (int)response.StatusCode;
                    if (status == 200)
                    {
                        var body = sync ? ReadSync(response.Content, timeout.Token) : await response.Content.ReadAsByteArrayAsync(timeout.Token).ConfigureAwait(false);
                        var section = Accept(uri, body, expected, response.Headers.ETag);
                        return section;
                    }
                    if (status == 304)
                    {
                        if (cached is not null && cached.Uri == uri) return cached.Section;
                        throw new RemoteNotificationLogException($"GET {uri} answered 304 Not Modified to a request that named no ETag.", uri, response.StatusCode);
                    }
                    if (IsTransient(status))
                    {
                        lastFault = $"HTTP {status} {response.ReasonPhrase}";
                        lastException = null;
                        retryAfter = RetryAfter(response);
                    }
                    else
                    {
                        var detail = sync ? DetailSync(response, timeout.Token) : await DetailAsync(response, timeout.Token).ConfigureAwait(false);
                        throw new RemoteNotificationLogException(Refusal(uri, status, response.ReasonPhrase, detail), uri, response.StatusCode);
                    }
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    throw;
                }
                catch (OperationCanceledException ex)
                {
                    lastFault = $"no answer within {_options.RequestTimeout.TotalSeconds:0.###} s";
                    lastException = ex;
                }
                catch (HttpRequestException ex)
                {
                    lastFault = ex.Message;
                    lastException = ex;
                }
                catch (IOException ex)
                {
                    lastFault = ex.Message;
                    lastException = ex;
                }
                finally
                {
                    response?.Dispose();
                }
            }
            if (attempt >= maxAttempts)
                throw new RemoteNotificationLogException(
                    $"GET {uri} failed {attempt} time(s); the last failure: {lastFault}.", uri, lastStatus, lastException);
            var delay = retryAfter is { } after ? TimeSpan.FromTicks(Math.Min(after.Ticks, _options.MaxBackoff.Ticks)) : Backoff(attempt);
            if (sync)
            {
                if (cancellationToken.WaitHandle.WaitOne(delay)) cancellationToken.ThrowIfCancellationRequested();
            }
            else
            {
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private Section Accept(Uri uri, byte[] body, SectionId? expected, EntityTagHeaderValue? etag)
    {
        ParsedSection parsed;
        try
        {
            parsed = SectionJson.Parse(body, "GET " + uri);
        }
        catch (InvalidDataException ex)
        {
            throw new RemoteNotificationLogException(ex.Message, uri, HttpStatusCode.OK, ex);
        }
        var known = Volatile.Read(ref _sectionSize);
        if (known == 0)
        {
            Interlocked.CompareExchange(ref _sectionSize, parsed.SectionSize, 0);
            known = Volatile.Read(ref _sectionSize);
        }
        if (parsed.SectionSize != known)
            throw new RemoteNotificationLogException(
                $"The notification-log section from GET {uri} is invalid: the server's sections hold {parsed.SectionSize} notifications, but this log expects {known}.", uri, HttpStatusCode.OK);
        if (expected is { } wanted && parsed.Section.Id != wanted.ToString())
            throw new RemoteNotificationLogException(
                $"The notification-log section from GET {uri} is invalid: it is section '{parsed.Section.Id}', not the '{wanted}' requested.", uri, HttpStatusCode.OK);
        if (parsed.Application is not null && !string.Equals(parsed.Application, Application, StringComparison.OrdinalIgnoreCase))
            throw new RemoteNotificationLogException(
                $"The notification-log section from GET {uri} is invalid: it belongs to application '{parsed.Application}', not '{Application}'.", uri, HttpStatusCode.OK);
        if (!parsed.Section.IsArchived && etag is not null)
            Volatile.Write(ref _cached, new CachedSection(uri, etag.ToString(), parsed.Section));
        return parsed.Section;
    }

    private HttpResponseMessage SendSync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            return _client.Send(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        }
        catch (NotSupportedException)
        {
            // A handler without synchronous support: block on the asynchronous path instead.
            return _client.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).GetAwaiter().GetResult();
        }
    }

    private static byte[] ReadSync(HttpContent content, CancellationToken cancellationToken)
    {
        using var stream = content.ReadAsStream(cancellationToken);
        if (stream is MemoryStream memory) return memory.ToArray();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private static string DetailSync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            return Shorten(System.Text.Encoding.UTF8.GetString(ReadSync(response.Content, cancellationToken)));
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException or OperationCanceledException)
        {
            return "";
        }
    }

    private static async Task<string> DetailAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            return Shorten(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException or OperationCanceledException)
        {
            return "";
        }
    }

    private string Refusal(Uri uri, int status, string? reason, string detail)
    {
        var what = status switch
        {
            401 => _authorization is null
                ? "the server requires a bearer token (set RemoteNotificationLogOptions.BearerToken)"
                : "the server rejected the bearer token",
            403 => "the server refused access",
            404 => $"the server has no notification log '{Application}' there (check the base address and the application name)",
            400 => "the server rejected the request",
            _ => "the server refused the request",
        };
        var body = detail.Length > 0 ? $" The server said: {detail}" : "";
        return $"GET {uri} answered HTTP {status} {reason}: {what}.{body}";
    }

    private static string Shorten(string text) => text.Length <= 500 ? text : text[..500] + "...";

    private static bool IsTransient(int status) => status is 408 or 429 or >= 500 and <= 599;

    private static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta && delta >= TimeSpan.Zero) return delta;
        if (header?.Date is { } date)
        {
            var wait = date - DateTimeOffset.UtcNow;
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }
        return null;
    }

    private TimeSpan Backoff(int attempt)
    {
        var factor = Math.Pow(2, Math.Min(attempt - 1, 20));
        var ticks = Math.Min(_options.InitialBackoff.Ticks * factor, _options.MaxBackoff.Ticks);
        // Jitter between half and the whole delay, so many followers do not retry in step.
        return TimeSpan.FromTicks((long)(ticks * (0.5 + Random.Shared.NextDouble() / 2)));
    }

    private sealed record CachedSection(Uri Uri, string ETag, Section Section);
}
