using PeftOnnx.Runtime.Scoring;
using PeftOnnx.Runtime.Tests.Inference;

namespace PeftOnnx.Runtime.Tests.Scoring;

/// <summary>Prepare + Score(prepared) is the same computation as Score(texts), so callers may tokenize ahead.</summary>
[Collection("minilm")]
public sealed class PreparedScoringTests(MiniLmFixture fixture)
{
    private static readonly string[] Texts =
    [
        string.Join(' ', Enumerable.Repeat("The daemon forwards network packets between interfaces and logs every connection.", 12)),
        "Audio editor",
        string.Join(' ', Enumerable.Repeat("A relational database server with SQL support, replication and point-in-time recovery.", 9)),
        "",
        string.Join(' ', Enumerable.Repeat("Fonts for Devanagari and Tamil scripts, hinted for small sizes on screens.", 7)),
    ];

    [Theory]
    [InlineData(WindowAggregation.Mean, null)]
    [InlineData(WindowAggregation.Max, null)]
    [InlineData(WindowAggregation.First, null)]
    [InlineData(WindowAggregation.Mean, "games,databases,networking")]
    public void Scoring_prepared_texts_gives_exactly_the_scores_of_the_texts(WindowAggregation aggregation, string? zeroShot)
    {
        var scorer = new OnnxTextScorer(fixture.Model, new ScorerOptions
        {
            MaxLength = 64, WindowOverlap = 16, BatchSize = 4, Aggregation = aggregation, ZeroShotLabels = zeroShot?.Split(','),
        });
        var prepared = Texts.Select(scorer.Prepare).ToList();
        if (aggregation != WindowAggregation.First)
            Assert.True(prepared[0].Windows.Count >= 3, $"the long text should need several windows, got {prepared[0].Windows.Count}");

        var fromTexts = scorer.Score(Texts);
        var fromPrepared = scorer.Score(prepared);

        Assert.Equal(Texts.Length, fromPrepared.Count);
        for (var i = 0; i < Texts.Length; i++)
        {
            Assert.Equal(fromTexts[i].Chunks, fromPrepared[i].Chunks);
            Assert.Equal(fromTexts[i].Tokens, fromPrepared[i].Tokens);
            Assert.Equal(prepared[i].Windows.Count, fromPrepared[i].Chunks);
            Assert.Equal(fromTexts[i].Label, fromPrepared[i].Label);
            Assert.Equal(fromTexts[i].Score, fromPrepared[i].Score); // exact: same batches, same arithmetic
            Assert.Equal(fromTexts[i].Embedding, fromPrepared[i].Embedding);
            Assert.Equal(fromTexts[i].Probabilities, fromPrepared[i].Probabilities);
        }
    }

    [Fact]
    public void First_aggregation_prepares_only_the_first_window()
    {
        var scorer = new OnnxTextScorer(fixture.Model, new ScorerOptions { MaxLength = 64, WindowOverlap = 16, Aggregation = WindowAggregation.First });
        var prepared = scorer.Prepare(Texts[0]);
        Assert.Equal(64, Assert.Single(prepared.Windows).Length);
        Assert.Equal(64, prepared.Tokens);
    }

    [Fact]
    public void Texts_prepared_for_longer_windows_or_without_tokens_are_rejected()
    {
        var wide = new OnnxTextScorer(fixture.Model, new ScorerOptions { MaxLength = 128, WindowOverlap = 16 });
        var narrow = new OnnxTextScorer(fixture.Model, new ScorerOptions { MaxLength = 64, WindowOverlap = 16 });
        var error = Assert.Throws<ArgumentException>(() => narrow.Score([wide.Prepare(Texts[0])]));
        Assert.Contains("128", error.Message);
        Assert.Throws<ArgumentException>(() => narrow.Score([new PreparedText("untokenized", [], 3)]));
    }
}
