namespace ProcessDsl.Tests;

public class SectionIdTests
{
    [Theory]
    [InlineData("")]
    [InlineData("0,5")]
    [InlineData("5,1")]
    [InlineData("a,b")]
    [InlineData("1,5,9")]
    [InlineData("-1,4")]
    [InlineData("1,9223372036854775808")]
    [InlineData("9223372036854775808,9223372036854775809")]
    [InlineData("1;5")]
    [InlineData(" 1,5")]
    [InlineData("1,")]
    [InlineData(",5")]
    [InlineData("+1,5")]
    [InlineData("1e3,2e3")]
    public void Malformed_section_ids_are_rejected_with_a_clear_argument_exception(string sectionId)
    {
        var ex = Assert.Throws<ArgumentException>(() => SectionId.Parse(sectionId));
        Assert.Contains("Section id", ex.Message);
        Assert.Equal("sectionId", ex.ParamName);
    }

    [Theory]
    [InlineData("1,10", 5, "1,5")]
    [InlineData("6,7", 5, "6,10")]
    [InlineData("7,7", 5, "6,10")]
    [InlineData("11,20", 10, "11,20")]
    [InlineData("1,1", 1, "1,1")]
    public void Section_ids_normalise_to_the_section_holding_their_first_item(string id, int size, string expected)
    {
        Assert.Equal(expected, SectionId.Parse(id).Normalize(size).ToString());
    }

    [Fact]
    public void Containing_handles_the_largest_ids_without_overflow()
    {
        var id = SectionId.Containing(long.MaxValue, 10);
        Assert.Equal(long.MaxValue, id.Last);
        Assert.True(id.First <= long.MaxValue);
    }
}
