using PeftOnnx.Runtime.Scoring;
using PeftOnnx.Runtime.Tests.Inference;
using PeftOnnx.Tests;

namespace PeftOnnx.Runtime.Tests.Scoring;

[Collection("minilm")]
public sealed class OnnxTextScorerTests(MiniLmFixture fixture)
{
    private static readonly string[] Texts =
    [
        "chess engine for xboard",
        "A fast relational database server with SQL support and replication across several machines.",
        "Audio editor",
    ];

    [Fact]
    public void Embeddings_do_not_depend_on_batch_partners_or_padding()
    {
        var scorer = new OnnxTextScorer(fixture.Model, new ScorerOptions { BatchSize = 8 });
        var together = scorer.Score(Texts);
        for (var i = 0; i < Texts.Length; i++)
        {
            var alone = scorer.Score([Texts[i]])[0];
            var diff = together[i].Embedding!.Zip(alone.Embedding!).Max(p => Math.Abs(p.First - p.Second));
            Assert.True(diff < 1e-5, $"text {i}: batched vs alone differ by {diff:E2}");
        }
    }

    [Fact]
    public void Embeddings_are_unit_length_and_distinct()
    {
        var scores = new OnnxTextScorer(fixture.Model).Score(Texts);
        foreach (var score in scores)
        {
            Assert.Null(score.Label);
            Assert.Equal(384, score.Embedding!.Length);
            Assert.Equal(1.0, Math.Sqrt(score.Embedding.Sum(v => (double)v * v)), 4);
            Assert.Equal(1, score.Chunks);
        }
        Assert.NotEqual(scores[0].Embedding, scores[1].Embedding);
    }

    [Fact]
    public void Long_documents_are_split_into_overlapping_windows()
    {
        var longText = string.Join(' ', Enumerable.Repeat("The daemon forwards network packets between interfaces and logs every connection.", 40));
        var tokens = fixture.Model.Tokenizer.CountTokens(longText);
        var scorer = new OnnxTextScorer(fixture.Model, new ScorerOptions { MaxLength = 64, WindowOverlap = 16 });
        var score = scorer.Score([longText, "short"]);

        // Windows of 62 word-pieces advancing by 46.
        var expectedWindows = 1 + (int)Math.Ceiling((tokens - 62) / 46.0);
        Assert.Equal(expectedWindows, score[0].Chunks);
        Assert.Equal(1, score[1].Chunks);

        var first = new OnnxTextScorer(fixture.Model, new ScorerOptions { MaxLength = 64, WindowOverlap = 16, Aggregation = WindowAggregation.First });
        Assert.Equal(1, first.Score([longText])[0].Chunks);
    }

    [Fact]
    public void Zero_shot_picks_the_label_closest_in_meaning()
    {
        var scorer = new OnnxTextScorer(fixture.Model, new ScorerOptions { ZeroShotLabels = ["games", "databases", "sound"] });
        var scores = scorer.Score(["a chess game you play against the computer", "PostgreSQL client library for SQL queries", "music player with equalizer and audio effects"]);
        Assert.Equal(["games", "databases", "sound"], scores.Select(s => s.Label));
        Assert.All(scores, s =>
        {
            Assert.Equal(1.0, s.Probabilities!.Sum(), 4);
            Assert.Equal(s.Probabilities!.Max(), s.Score);
        });
    }

    [Fact]
    public void Zero_shot_needs_two_distinct_labels()
    {
        Assert.Throws<ArgumentException>(() => new OnnxTextScorer(fixture.Model, new ScorerOptions { ZeroShotLabels = ["games"] }));
        Assert.Throws<ArgumentException>(() => new OnnxTextScorer(fixture.Model, new ScorerOptions { ZeroShotLabels = ["a", "a"] }));
    }

    [Fact]
    public void Overlap_must_leave_room_in_the_window()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new OnnxTextScorer(fixture.Model, new ScorerOptions { MaxLength = 16, WindowOverlap = 14 }));
        Assert.Contains("14", error.Message);
    }

    [Fact]
    public void Empty_input_list_gives_no_scores()
    {
        Assert.Empty(new OnnxTextScorer(fixture.Model).Score([]));
    }

    [Fact]
    public void Model_id_names_the_model_and_its_hash()
    {
        Assert.Equal("minilm-l6@4a64cee3d413", new OnnxTextScorer(fixture.Model).ModelId);
        Assert.True(Directory.Exists(TestPaths.RepoRoot));
    }
}
