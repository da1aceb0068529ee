using System.Buffers;
using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace ProcessDsl;

/// <summary>
/// Where a stored event came from, kept with it in the events table's <c>metadata</c> column (JSON
/// text) and in the notification log: the trace context of the command or processing step that
/// recorded it, the correlation id shared by everything one command set off, and the causation id of
/// the upstream event it was recorded in response to.
/// </summary>
/// <remarks>
/// <para>A command's save (<see cref="Application.Save"/>) stores the trace context of
/// <see cref="Activity.Current"/> (when there is one) and the ids of the innermost
/// <see cref="Correlate"/> scope (when there is one); with neither, it stores no metadata.</para>
/// <para>An event recorded by a policy stores the trace context of its processing (an activity
/// parented to the upstream event's trace context, so one trace follows an order through every
/// application), the upstream event's correlation id (or, when the upstream event has none, the
/// upstream event's own <see cref="CausationId"/>-style identity, so a chain started by a command
/// without a correlation id is still one correlation), and as its causation id the upstream event:
/// <c>Application:notificationId</c>.</para>
/// </remarks>
/// <param name="TraceParent">The W3C <c>traceparent</c> of the activity that recorded the event.</param>
/// <param name="TraceState">The W3C <c>tracestate</c> of that activity, if it had one.</param>
/// <param name="CorrelationId">The id shared by the events one command set off.</param>
/// <param name="CausationId">What the event was recorded in response to: <c>Application:notificationId</c> of the upstream event for a policy, the caller's id for a command.</param>
public sealed record EventMetadata(string? TraceParent = null, string? TraceState = null, string? CorrelationId = null, string? CausationId = null)
{
    private static readonly AsyncLocal<CorrelationScope?> s_scope = new();
    private string? _json;

    /// <summary>
    /// Until disposed, the saves of commands on this logical flow (it follows <see langword="await"/>)
    /// store these ids with their events, and every event processed downstream of them carries the
    /// correlation id on. Scopes nest; the innermost wins.
    /// </summary>
    /// <param name="correlationId">The id to correlate by (a request id, an order number).</param>
    /// <param name="causationId">What caused the command (a message id), if anything.</param>
    /// <returns>The scope; dispose it to end it.</returns>
    public static IDisposable Correlate(string correlationId, string? causationId = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(correlationId);
        var scope = new CorrelationScope(correlationId, causationId, s_scope.Value);
        s_scope.Value = scope;
        return scope;
    }

    /// <summary>The correlation id of the innermost <see cref="Correlate"/> scope of this flow, if any.</summary>
    public static string? CurrentCorrelationId => s_scope.Value?.CorrelationId;

    /// <summary>The metadata a command's save stores now: the current activity and correlation scope, or null with neither.</summary>
    internal static EventMetadata? ForCommand()
    {
        var activity = Activity.Current;
        var scope = s_scope.Value;
        if (scope is null && (activity is null || activity.IdFormat != ActivityIdFormat.W3C)) return null;
        return new EventMetadata(
            activity is { IdFormat: ActivityIdFormat.W3C } ? activity.Id : null,
            activity is { IdFormat: ActivityIdFormat.W3C } ? activity.TraceStateString : null,
            scope?.CorrelationId,
            scope?.CausationId);
    }

    /// <summary>The trace context this metadata carries, if it has a valid one.</summary>
    internal bool TryGetTraceContext(out ActivityContext context)
    {
        context = default;
        return TraceParent is not null && ActivityContext.TryParse(TraceParent, TraceState, isRemote: true, out context);
    }

    /// <summary>The JSON text stored in the <c>metadata</c> column (computed once).</summary>
    internal string ToJson() => _json ??= Encode();

    // One buffer and writer per thread: a step encodes the metadata of every event it writes, and
    // only the resulting string need be new.
    [ThreadStatic] private static ArrayBufferWriter<byte>? t_buffer;
    [ThreadStatic] private static Utf8JsonWriter? t_writer;

    // Printable ASCII that System.Text.Json's default encoder writes as it is (it escapes the quote,
    // the backslash and the HTML-sensitive & ' + < > `, control characters and anything non-ASCII).
    private static readonly SearchValues<char> s_plain = SearchValues.Create(
        " !#$%()*,-./0123456789:;=?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_abcdefghijklmnopqrstuvwxyz{|}~");

    private static bool IsPlain(string? value) => value is null || !value.AsSpan().ContainsAnyExcept(s_plain);

    private string Encode() =>
        IsPlain(TraceParent) && IsPlain(TraceState) && IsPlain(CorrelationId) && IsPlain(CausationId) ? EncodePlain() : EncodeWithWriter();

    /// <summary>
    /// The JSON of values that need no escaping (the usual case: ids and trace context), put
    /// together directly; the same text <see cref="EncodeWithWriter"/> writes for them.
    /// </summary>
    private string EncodePlain()
    {
        const string TraceParentName = "\"traceparent\":\"", TraceStateName = "\"tracestate\":\"",
            CorrelationName = "\"correlationId\":\"", CausationName = "\"causationId\":\"";
        var length = 2;
        var fields = 0;
        void Count(string? value, string name)
        {
            if (value is null) return;
            length += name.Length + value.Length + 1 + (fields++ > 0 ? 1 : 0);
        }
        Count(TraceParent, TraceParentName);
        Count(TraceState, TraceStateName);
        Count(CorrelationId, CorrelationName);
        Count(CausationId, CausationName);
        return string.Create(length, this, static (span, metadata) =>
        {
            var at = 0;
            span[at++] = '{';
            void Put(Span<char> span, ref int at, string? value, string name)
            {
                if (value is null) return;
                if (at > 1) span[at++] = ',';
                name.CopyTo(span[at..]);
                at += name.Length;
                value.CopyTo(span[at..]);
                at += value.Length;
                span[at++] = '"';
            }
            Put(span, ref at, metadata.TraceParent, TraceParentName);
            Put(span, ref at, metadata.TraceState, TraceStateName);
            Put(span, ref at, metadata.CorrelationId, CorrelationName);
            Put(span, ref at, metadata.CausationId, CausationName);
            span[at] = '}';
        });
    }

    /// <summary>The JSON as System.Text.Json writes it (any values; escapes what needs escaping).</summary>
    internal string EncodeWithWriter()
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(256);
        buffer.ResetWrittenCount();
        var writer = t_writer ??= new Utf8JsonWriter(buffer);
        writer.Reset(buffer);
        writer.WriteStartObject();
        Write(writer);
        writer.WriteEndObject();
        writer.Flush();
        var json = Encoding.UTF8.GetString(buffer.WrittenSpan);
        if (buffer.Capacity > 16 * 1024)
        {
            // A rare large trace state: do not keep its buffer for the life of the thread.
            t_buffer = null;
            t_writer = null;
        }
        return json;
    }

    /// <summary>Writes the set properties into an open JSON object.</summary>
    internal void Write(Utf8JsonWriter writer)
    {
        if (TraceParent is not null) writer.WriteString("traceparent"u8, TraceParent);
        if (TraceState is not null) writer.WriteString("tracestate"u8, TraceState);
        if (CorrelationId is not null) writer.WriteString("correlationId"u8, CorrelationId);
        if (CausationId is not null) writer.WriteString("causationId"u8, CausationId);
    }

    /// <summary>Reads the stored JSON text; null for SQL NULL.</summary>
    /// <exception cref="FormatException">The text is not a metadata object.</exception>
    internal static EventMetadata? FromJson(string? json)
    {
        if (json is null) return null;
        var bytes = Encoding.UTF8.GetBytes(json);
        var reader = new Utf8JsonReader(bytes);
        try
        {
            if (!reader.Read()) throw new FormatException("Event metadata is empty.");
            var metadata = Read(ref reader);
            metadata._json = json;
            return metadata;
        }
        catch (JsonException ex)
        {
            throw new FormatException($"Event metadata is not a JSON object: {ex.Message}", ex);
        }
    }

    /// <summary>Reads a metadata object at the reader's current StartObject token (unknown properties are skipped).</summary>
    internal static EventMetadata Read(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject) throw new FormatException("Event metadata is not a JSON object.");
        string? traceParent = null, traceState = null, correlation = null, causation = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            if (reader.TokenType != JsonTokenType.PropertyName) throw new FormatException("Event metadata: a property name was expected.");
            var name = reader.ValueSpan;
            var isTraceParent = name.SequenceEqual("traceparent"u8);
            var isTraceState = name.SequenceEqual("tracestate"u8);
            var isCorrelation = name.SequenceEqual("correlationId"u8);
            var isCausation = name.SequenceEqual("causationId"u8);
            reader.Read();
            if (!(isTraceParent || isTraceState || isCorrelation || isCausation))
            {
                reader.Skip();
                continue;
            }
            var value = reader.TokenType switch
            {
                JsonTokenType.String => reader.GetString(),
                JsonTokenType.Null => null,
                _ => throw new FormatException($"Event metadata: '{Encoding.UTF8.GetString(name)}' is not a string."),
            };
            if (isTraceParent) traceParent = value;
            else if (isTraceState) traceState = value;
            else if (isCorrelation) correlation = value;
            else causation = value;
        }
        return new EventMetadata(traceParent, traceState, correlation, causation);
    }

    /// <summary>Equal when the four ids are equal.</summary>
    public bool Equals(EventMetadata? other) =>
        other is not null && TraceParent == other.TraceParent && TraceState == other.TraceState &&
        CorrelationId == other.CorrelationId && CausationId == other.CausationId;

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(TraceParent, TraceState, CorrelationId, CausationId);

    private sealed class CorrelationScope(string correlationId, string? causationId, CorrelationScope? outer) : IDisposable
    {
        public string CorrelationId { get; } = correlationId;

        public string? CausationId { get; } = causationId;

        public void Dispose()
        {
            if (s_scope.Value == this) s_scope.Value = outer;
        }
    }
}
