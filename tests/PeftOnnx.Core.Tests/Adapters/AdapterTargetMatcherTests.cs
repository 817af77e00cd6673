using PeftOnnx.Core.Adapters;

namespace PeftOnnx.Core.Tests.Adapters;

public sealed class AdapterTargetMatcherTests
{
    private static readonly string[] Linears =
    [
        "encoder.layer.0.attention.self.query", "encoder.layer.0.attention.self.key", "encoder.layer.0.attention.self.value",
        "encoder.layer.0.attention.output.dense", "encoder.layer.0.intermediate.dense", "encoder.layer.0.output.dense",
        "encoder.layer.1.attention.self.query", "pooler.dense", "classifier",
    ];

    [Fact]
    public void List_entries_match_exactly_or_as_a_dotted_suffix()
    {
        var matcher = new AdapterTargetMatcher(TargetModules.FromNames("dense"));
        Assert.Equal(
            ["encoder.layer.0.attention.output.dense", "encoder.layer.0.intermediate.dense", "encoder.layer.0.output.dense", "pooler.dense"],
            matcher.Select(Linears));
        Assert.False(matcher.Matches("encoder.layer.0.output.superdense"));
        Assert.True(new AdapterTargetMatcher(TargetModules.FromNames("classifier")).Matches("classifier"));
    }

    [Fact]
    public void Multi_segment_entries_match_both_output_denses()
    {
        var matcher = new AdapterTargetMatcher(TargetModules.FromNames("output.dense"));
        Assert.Equal(["encoder.layer.0.attention.output.dense", "encoder.layer.0.output.dense"], matcher.Select(Linears));
    }

    [Fact]
    public void Regex_must_match_the_whole_name()
    {
        Assert.Empty(new AdapterTargetMatcher(TargetModules.FromPattern("query")).Select(Linears));
        Assert.Equal(
            ["encoder.layer.0.attention.self.query"],
            new AdapterTargetMatcher(TargetModules.FromPattern(@"encoder\.layer\.0\..*query")).Select(Linears));
    }

    [Fact]
    public void Exclude_and_layers_to_transform_narrow_the_selection()
    {
        var matcher = new AdapterTargetMatcher(TargetModules.FromNames("query", "dense"), TargetModules.FromNames("pooler.dense"), [1]);
        Assert.Equal(["encoder.layer.1.attention.self.query"], matcher.Select(Linears));
    }

    [Fact]
    public void All_linear_skips_the_classifier()
    {
        var selected = new AdapterTargetMatcher(TargetModules.FromPattern(TargetModules.AllLinear)).Select(Linears);
        Assert.Equal(Linears.Length - 1, selected.Count);
        Assert.DoesNotContain("classifier", selected);
    }

    [Fact]
    public void Unmatched_entries_are_reported()
    {
        var matcher = new AdapterTargetMatcher(TargetModules.FromNames("query", "q_proj"));
        Assert.Equal(["q_proj"], matcher.UnmatchedEntries(Linears));
    }

    [Fact]
    public void Invalid_regex_is_refused_with_the_pattern()
    {
        var e = Assert.Throws<InvalidDataException>(() => TargetModules.FromPattern("(query"));
        Assert.Contains("(query", e.Message);
    }
}
