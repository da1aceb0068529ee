using System.Net;
using System.Net.Http.Headers;

namespace ProcessDsl;

/// <summary>
/// The transport of a <see cref="RemoteNotificationLog"/>: one <c>GET</c> of a section, retried
/// through a <see cref="RetryPolicy"/> on transient faults (connection refused or reset, timeouts,
/// 408, 429, 5xx; honouring <c>Retry-After</c> up to the policy's longest delay), revalidated with
/// <c>If-None-Match</c>, with a bounded body; every refusal worded for the person who reads it.
/// </summary>
internal sealed class RemoteSectionClient : IDisposable
{
    private readonly HttpClient _client;
    private readonly bool _ownsClient;
    private readonly RemoteNotificationLogOptions _options;
    private readonly AuthenticationHeaderValue? _authorization;
    private readonly RetryPolicy _retry;
    private readonly string _application;
    private CachedSection? _cached;

    public RemoteSectionClient(string application, RemoteNotificationLogOptions options, HttpClient? httpClient)
    {
        _application = application;
        _options = options;
        _retry = new RetryPolicy
        {
            InitialDelay = options.InitialBackoff,
            MaxDelay = options.MaxBackoff,
            MaxAttempts = options.MaxAttempts,
            Jitter = 0.5, // many followers of one server should not retry in step
            IsTransient = static fault => fault is TransientFault,
        };
        if (options.BearerToken is not null) _authorization = new AuthenticationHeaderValue("Bearer", options.BearerToken);
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

    /// <summary>
    /// Gets the section at <paramref name="uri"/>, checked by <paramref name="accept"/>, in at most
    /// <paramref name="attempts"/> attempts (the options' number when 0).
    /// </summary>
    /// <exception cref="RemoteNotificationLogException">Refused, malformed, too large, or still failing after the last attempt.</exception>
    public async Task<Section> GetAsync(Uri uri, Func<Uri, byte[], Section> accept, CancellationToken cancellationToken, int attempts = 0)
    {
        var policy = attempts > 0 ? _retry with { MaxAttempts = attempts } : _retry;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await SendOnceAsync(uri, accept, cancellationToken).ConfigureAwait(false);
            }
            catch (TransientFault fault) when (policy.ShouldRetry(attempt, fault))
            {
                var delay = fault.RetryAfter is { } after ? TimeSpan.FromTicks(Math.Min(after.Ticks, _options.MaxBackoff.Ticks)) : policy.Delay(attempt);
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            }
            catch (TransientFault fault)
            {
                throw new RemoteNotificationLogException(
                    $"GET {uri} failed {attempt} time(s); the last failure: {fault.Message}.", uri, fault.Status, fault.InnerException);
            }
        }
    }

    public void Dispose()
    {
        if (_ownsClient) _client.Dispose();
    }

    private async Task<Section> SendOnceAsync(Uri uri, Func<Uri, byte[], Section> accept, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var cached = Volatile.Read(ref _cached);
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        request.Headers.Authorization = _authorization;
        if (cached is not null && cached.Uri == uri) request.Headers.TryAddWithoutValidation("If-None-Match", cached.ETag);
        timeout.CancelAfter(_options.RequestTimeout);
        try
        {
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            if (status == 200)
            {
                var body = await ReadBoundedAsync(uri, response.Content, timeout.Token).ConfigureAwait(false);
                var section = accept(uri, body);
                if (!section.IsArchived && response.Headers.ETag is { } etag)
                    Volatile.Write(ref _cached, new CachedSection(uri, etag.ToString(), section));
                return section;
            }
            if (status == 304)
            {
                if (cached is not null && cached.Uri == uri) return cached.Section;
                throw new RemoteNotificationLogException($"GET {uri} answered 304 Not Modified to a request that named no ETag.", uri, response.StatusCode);
            }
            if (status is 408 or 429 or >= 500 and <= 599)
                throw new TransientFault($"HTTP {status} {response.ReasonPhrase}", response.StatusCode, RetryAfter(response));
            var detail = await DetailAsync(response, timeout.Token).ConfigureAwait(false);
            throw new RemoteNotificationLogException(Refusal(uri, status, response.ReasonPhrase, detail), uri, response.StatusCode);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (OperationCanceledException ex)
        {
            throw new TransientFault($"no answer within {_options.RequestTimeout.TotalSeconds:0.###} s", null, null, ex);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            throw new TransientFault(ex.Message, null, null, ex);
        }
    }

    /// <summary>The body, refused beyond <see cref="RemoteNotificationLogOptions.MaxResponseBytes"/> whatever the server declares or sends.</summary>
    private async Task<byte[]> ReadBoundedAsync(Uri uri, HttpContent content, CancellationToken cancellationToken)
    {
        var limit = _options.MaxResponseBytes;
        if (content.Headers.ContentLength is { } declared && declared > limit) throw TooLarge(uri, $"{declared} bytes");
        var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var buffer = new MemoryStream(content.Headers.ContentLength is { } length ? (int)length : 16 * 1024);
            var chunk = new byte[16 * 1024];
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > limit) throw TooLarge(uri, "more");
                buffer.Write(chunk, 0, read);
            }
            return buffer.ToArray();
        }
    }

    private RemoteNotificationLogException TooLarge(Uri uri, string size) => new(
        $"GET {uri} answered with a body of {size} than the {_options.MaxResponseBytes} bytes this log accepts (RemoteNotificationLogOptions.MaxResponseBytes): " +
        "raise the limit if the server's sections are this large, or serve smaller sections.",
        uri, HttpStatusCode.OK);

    private static async Task<string> DetailAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            return text.Length <= 500 ? text : text[..500] + "...";
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
            404 => $"the server has no notification log '{_application}' there (check the base address and the application name)",
            400 => "the server rejected the request",
            _ => "the server refused the request",
        };
        var body = detail.Length > 0 ? $" The server said: {detail}" : "";
        return $"GET {uri} answered HTTP {status} {reason}: {what}.{body}";
    }

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

    /// <summary>A failure worth another attempt.</summary>
    private sealed class TransientFault(string message, HttpStatusCode? status, TimeSpan? retryAfter, Exception? inner = null) : Exception(message, inner)
    {
        public HttpStatusCode? Status { get; } = status;

        public TimeSpan? RetryAfter { get; } = retryAfter;
    }

    private sealed record CachedSection(Uri Uri, string ETag, Section Section);
}
