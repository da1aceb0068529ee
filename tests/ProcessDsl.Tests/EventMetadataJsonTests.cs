namespace ProcessDsl.Tests;

/// <summary>Event metadata is encoded with one writer per thread: each encoding must stand alone.</summary>
public sealed class EventMetadataJsonTests
{
    [Fact]
    public void Encodings_one_after_another_on_a_thread_each_hold_only_their_own_values()
    {
        var large = new EventMetadata(TraceState: "vendor=" + new string('x', 40_000), CorrelationId: "big");
        var first = new EventMetadata("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", null, "order-1", "orders:1");
        var second = new EventMetadata(CorrelationId: "order-\"2\"");

        var firstJson = first.ToJson();
        var largeJson = large.ToJson();
        var secondJson = second.ToJson();

        Assert.Equal("""{"traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01","correlationId":"order-1","causationId":"orders:1"}""", firstJson);
        Assert.Equal("""{"correlationId":"order-\u00222\u0022"}""", secondJson);
        Assert.Equal(large, EventMetadata.FromJson(largeJson));
        Assert.Equal(second, EventMetadata.FromJson(new EventMetadata(CorrelationId: "order-\"2\"").ToJson()));
        Assert.Equal(first, EventMetadata.FromJson(new EventMetadata(first.TraceParent, null, "order-1", "orders:1").ToJson()));
    }

    [Fact]
    public void Metadata_put_together_directly_is_the_text_the_JSON_writer_writes_for_every_character()
    {
        // Every ASCII character and a few beyond, in each field alone and in all four: plain values
        // take the direct path, the others the writer; both must give the same text.
        var characters = Enumerable.Range(0, 128).Select(c => (char)c).Concat(['é', '€', '\u2028', '中']);
        foreach (var c in characters)
        {
            var value = "a" + c + "z";
            foreach (var metadata in new[]
            {
                new EventMetadata(TraceParent: value), new EventMetadata(TraceState: value),
                new EventMetadata(CorrelationId: value), new EventMetadata(CausationId: value),
                new EventMetadata(value, value, value, value), new EventMetadata(null, value, null, value),
            })
            {
                var direct = metadata.ToJson();
                Assert.Equal(new EventMetadata(metadata.TraceParent, metadata.TraceState, metadata.CorrelationId, metadata.CausationId).EncodeWithWriter(), direct);
                Assert.Equal(metadata, EventMetadata.FromJson(direct));
            }
        }
        Assert.Equal("{}", new EventMetadata().ToJson());
    }
}
