using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace ProcessDsl;

/// <summary>
/// The JSON form of a notification-log section, as served over HTTP and read by
/// <see cref="RemoteNotificationLog"/>:
/// <code>
/// {"application":"Orders","sectionSize":10,"id":"1,10","previousId":null,"nextId":"11,20",
///  "items":[{"id":1,"originatorId":"…","originatorVersion":1,"topic":"Order.Created","state":"eyJ…"}]}
/// </code>
/// <c>state</c> is the stored event (UTF-8 JSON) encoded as base64, so it is copied byte for byte.
/// An item has <c>"eventVersion"</c> when its event class version is not 1, and <c>"metadata"</c>
/// (<c>traceparent</c>, <c>tracestate</c>, <c>correlationId</c>, <c>causationId</c>; see
/// <see cref="EventMetadata"/>) when the event has any.
/// </summary>
public static class SectionJson
{
    /// <summary>The media type of a serialised section.</summary>
    public const string MediaType = "application/json";

    private static readonly JsonWriterOptions WriterOptions = new() { SkipValidation = true };

    /// <summary>Writes a section as JSON into <paramref name="output"/>.</summary>
    public static void Write(IBufferWriter<byte> output, string application, int sectionSize, Section section)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(application);
        ArgumentNullException.ThrowIfNull(section);
        using var writer = new Utf8JsonWriter(output, WriterOptions);
        writer.WriteStartObject();
        writer.WriteString("application"u8, application);
        writer.WriteNumber("sectionSize"u8, sectionSize);
        writer.WriteString("id"u8, section.Id);
        WriteNullableString(writer, "previousId"u8, section.PreviousId);
        WriteNullableString(writer, "nextId"u8, section.NextId);
        writer.WriteStartArray("items"u8);
        foreach (var item in section.Items)
        {
            writer.WriteStartObject();
            writer.WriteNumber("id"u8, item.Id);
            writer.WriteString("originatorId"u8, item.OriginatorId);
            writer.WriteNumber("originatorVersion"u8, item.OriginatorVersion);
            writer.WriteString("topic"u8, item.Topic);
            writer.WriteBase64String("state"u8, item.State);
            // The event class's version, written only when above 1 (readers of older servers assume 1).
            if (item.Version != 1) writer.WriteNumber("eventVersion"u8, item.Version);
            if (item.Metadata is { } metadata)
            {
                writer.WriteStartObject("metadata"u8);
                metadata.Write(writer);
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
        writer.Flush();
    }

    /// <summary>Serialises a section as UTF-8 JSON.</summary>
    public static byte[] Serialize(string application, int sectionSize, Section section)
    {
        var buffer = new ArrayBufferWriter<byte>(256 + section.Items.Count * 256);
        Write(buffer, application, sectionSize, section);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Parses a serialised section and checks it is well formed: the fields are present with the
    /// right types, the items lie inside the section, in order and contiguous, and the links agree
    /// with the section id.
    /// </summary>
    /// <param name="json">The UTF-8 JSON.</param>
    /// <param name="source">Where the JSON came from (a URL), named in error messages.</param>
    /// <exception cref="InvalidDataException">The JSON is not a well-formed section; the message says what is wrong and names the source.</exception>
    public static ParsedSection Parse(ReadOnlySpan<byte> json, string source)
    {
        try
        {
            return ParseCore(json, source);
        }
        catch (JsonException ex)
        {
            throw Invalid(source, $"the body is not valid JSON ({ex.Message})", ex);
        }
        catch (FormatException ex)
        {
            throw Invalid(source, $"a value has the wrong format ({ex.Message})", ex);
        }
        catch (InvalidOperationException ex)
        {
            throw Invalid(source, $"a value has the wrong JSON type ({ex.Message})", ex);
        }
    }

    private static ParsedSection ParseCore(ReadOnlySpan<byte> json, string source)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 16 });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            throw Invalid(source, "the body is not a JSON object");
        string? application = null, id = null, previousId = null, nextId = null;
        int? sectionSize = null;
        bool hasPrevious = false, hasNext = false;
        List<Notification>? items = null;
        while (true)
        {
            Next(ref reader, source);
            if (reader.TokenType == JsonTokenType.EndObject) break;
            if (reader.ValueTextEquals("application"u8)) { Next(ref reader, source); application = ReadString(ref reader, source, "application"); }
            else if (reader.ValueTextEquals("sectionSize"u8))
            {
                Next(ref reader, source);
                if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out var declaredSize) || declaredSize < 1)
                    throw Invalid(source, "'sectionSize' is not a positive whole number");
                sectionSize = declaredSize;
            }
            else if (reader.ValueTextEquals("id"u8)) { Next(ref reader, source); id = ReadString(ref reader, source, "id"); }
            else if (reader.ValueTextEquals("previousId"u8)) { Next(ref reader, source); previousId = ReadNullableString(ref reader, source, "previousId"); hasPrevious = true; }
            else if (reader.ValueTextEquals("nextId"u8)) { Next(ref reader, source); nextId = ReadNullableString(ref reader, source, "nextId"); hasNext = true; }
            else if (reader.ValueTextEquals("items"u8)) { Next(ref reader, source); items = ReadItems(ref reader, source); }
            else
            {
                Next(ref reader, source);
                reader.Skip();
            }
        }
        if (id is null) throw Invalid(source, "the field 'id' is missing");
        if (!hasPrevious) throw Invalid(source, "the field 'previousId' is missing");
        if (!hasNext) throw Invalid(source, "the field 'nextId' is missing");
        if (items is null) throw Invalid(source, "the field 'items' is missing");
        if (!SectionId.TryParse(id, out var sectionId, out var error)) throw Invalid(source, $"'id': {error}");
        if (sectionId.Length > int.MaxValue) throw Invalid(source, $"section '{id}' is too long");
        if (sectionSize is { } declared && declared != sectionId.Length && sectionId.Last != long.MaxValue)
            throw Invalid(source, $"section '{id}' spans {sectionId.Length} ids but 'sectionSize' is {declared}");
        var size = sectionSize ?? (int)sectionId.Length;
        if ((sectionId.First - 1) % size != 0)
            throw Invalid(source, $"section '{id}' does not start on a boundary of sections of {size}");

        if (items.Count > sectionId.Length)
            throw Invalid(source, $"section '{id}' holds {items.Count} items, more than its {sectionId.Length} ids");
        for (var i = 0; i < items.Count; i++)
        {
            var expected = sectionId.First + i;
            if (items[i].Id != expected)
            {
                var what = items[i].Id < sectionId.First || items[i].Id > sectionId.Last
                    ? "is outside the section"
                    : i > 0 && items[i].Id <= items[i - 1].Id ? "is out of order" : "leaves a gap";
                throw Invalid(source, $"item {i} of section '{id}' has id {items[i].Id}, expected {expected}: the id {what}");
            }
        }
        var expectedPrevious = sectionId.First > 1 ? SectionId.Containing(sectionId.First - 1, size).ToString() : null;
        if (previousId != expectedPrevious)
            throw Invalid(source, $"section '{id}' has previousId {Quote(previousId)}, expected {Quote(expectedPrevious)}");
        if (nextId is not null)
        {
            var expectedNext = sectionId.Last < long.MaxValue ? SectionId.Containing(sectionId.Last + 1, size).ToString() : null;
            if (nextId != expectedNext)
                throw Invalid(source, $"section '{id}' has nextId {Quote(nextId)}, expected {Quote(expectedNext)}");
            if (items.Count != sectionId.Length)
                throw Invalid(source, $"section '{id}' links to a next section but holds only {items.Count} of its {sectionId.Length} items");
        }
        return new ParsedSection(application, size, new Section(id, items, previousId, nextId));
    }

    private static List<Notification> ReadItems(ref Utf8JsonReader reader, string source)
    {
        if (reader.TokenType != JsonTokenType.StartArray) throw Invalid(source, "'items' is not an array");
        var items = new List<Notification>();
        while (true)
        {
            Next(ref reader, source);
            if (reader.TokenType == JsonTokenType.EndArray) return items;
            if (reader.TokenType != JsonTokenType.StartObject) throw Invalid(source, $"item {items.Count} is not an object");
            long? id = null, version = null;
            var eventVersion = 1L;
            EventMetadata? metadata = null;
            Guid? originator = null;
            string? topic = null;
            byte[]? state = null;
            while (true)
            {
                Next(ref reader, source);
                if (reader.TokenType == JsonTokenType.EndObject) break;
                if (reader.ValueTextEquals("id"u8)) { Next(ref reader, source); id = ReadLong(ref reader, source, items.Count, "id", 1); }
                else if (reader.ValueTextEquals("originatorId"u8))
                {
                    Next(ref reader, source);
                    if (reader.TokenType != JsonTokenType.String || !reader.TryGetGuid(out var guid))
                        throw Invalid(source, $"item {items.Count}: 'originatorId' is not a UUID string");
                    originator = guid;
                }
                else if (reader.ValueTextEquals("originatorVersion"u8)) { Next(ref reader, source); version = ReadLong(ref reader, source, items.Count, "originatorVersion", 0); }
                else if (reader.ValueTextEquals("eventVersion"u8)) { Next(ref reader, source); eventVersion = ReadLong(ref reader, source, items.Count, "eventVersion", 1); }
                else if (reader.ValueTextEquals("metadata"u8))
                {
                    Next(ref reader, source);
                    try
                    {
                        metadata = reader.TokenType == JsonTokenType.Null ? null : EventMetadata.Read(ref reader);
                    }
                    catch (FormatException ex)
                    {
                        throw Invalid(source, $"item {items.Count}: 'metadata': {ex.Message}", ex);
                    }
                }
                else if (reader.ValueTextEquals("topic"u8))
                {
                    Next(ref reader, source);
                    topic = ReadString(ref reader, source, $"item {items.Count}: 'topic'");
                    if (topic.Length == 0) throw Invalid(source, $"item {items.Count}: 'topic' is empty");
                }
                else if (reader.ValueTextEquals("state"u8))
                {
                    Next(ref reader, source);
                    if (reader.TokenType != JsonTokenType.String || !reader.TryGetBytesFromBase64(out state))
                        throw Invalid(source, $"item {items.Count}: 'state' is not a base64 string");
                }
                else
                {
                    Next(ref reader, source);
                    reader.Skip();
                }
            }
            var index = items.Count;
            items.Add(new Notification(
                id ?? throw Missing(source, index, "id"),
                originator ?? throw Missing(source, index, "originatorId"),
                version ?? throw Missing(source, index, "originatorVersion"),
                topic ?? throw Missing(source, index, "topic"),
                state ?? throw Missing(source, index, "state"),
                eventVersion <= int.MaxValue ? (int)eventVersion : throw Invalid(source, $"item {index}: 'eventVersion' {eventVersion} is too large"),
                metadata));
        }
    }

    private static void Next(ref Utf8JsonReader reader, string source)
    {
        if (!reader.Read()) throw Invalid(source, "the JSON ends too early");
    }

    private static long ReadLong(ref Utf8JsonReader reader, string source, int index, string field, long minimum)
    {
        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var value) || value < minimum)
            throw Invalid(source, $"item {index}: '{field}' is not a whole number from {minimum.ToString(CultureInfo.InvariantCulture)}");
        return value;
    }

    private static string ReadString(ref Utf8JsonReader reader, string source, string field) =>
        reader.TokenType == JsonTokenType.String ? reader.GetString()! : throw Invalid(source, $"{Field(field)} is not a string");

    private static string? ReadNullableString(ref Utf8JsonReader reader, string source, string field) =>
        reader.TokenType switch
        {
            JsonTokenType.Null => null,
            JsonTokenType.String => reader.GetString(),
            _ => throw Invalid(source, $"{Field(field)} is neither a string nor null"),
        };

    private static string Field(string field) => field.Contains('\'', StringComparison.Ordinal) ? field : $"'{field}'";

    private static void WriteNullableString(Utf8JsonWriter writer, ReadOnlySpan<byte> name, string? value)
    {
        if (value is null) writer.WriteNull(name);
        else writer.WriteString(name, value);
    }

    private static string Quote(string? value) => value is null ? "null" : $"'{value}'";

    private static InvalidDataException Missing(string source, int index, string field) =>
        Invalid(source, $"item {index}: the field '{field}' is missing");

    private static InvalidDataException Invalid(string source, string what, Exception? inner = null) =>
        new($"The notification-log section from {source} is invalid: {what}.", inner);
}

/// <summary>A section read from its JSON form, with what the JSON said about its log.</summary>
/// <param name="Application">The application named in the JSON, if any.</param>
/// <param name="SectionSize">The log's section size.</param>
/// <param name="Section">The section.</param>
public sealed record ParsedSection(string? Application, int SectionSize, Section Section);
