namespace PeftOnnx.Fuzz.Tests;

/// <summary>Every seed and every input that once crashed a target (corpus/&lt;target&gt;/crash-*) ends in success or the target's own format error.</summary>
public sealed class FuzzCorpusTests
{
    public static TheoryData<string, string> CorpusFiles()
    {
        var data = new TheoryData<string, string>();
        foreach (var target in FuzzTargets.Names)
        {
            foreach (var (path, _) in FuzzTargets.Corpus(target))
                data.Add(target, Path.GetFileName(path));
        }
        return data;
    }

    [Fact]
    public void Every_target_has_seeds()
    {
        foreach (var target in FuzzTargets.Names)
            Assert.True(FuzzTargets.Corpus(target).Count >= 2, $"corpus/{target} holds fewer than 2 seeds");
    }

    [Theory]
    [MemberData(nameof(CorpusFiles))]
    public void Corpus_input_does_not_crash(string target, string file)
    {
        var outcome = FuzzTargets.Create(target).Check(File.ReadAllBytes(Path.Combine(FuzzTargets.CorpusFolder(target), file)));
        Assert.False(outcome.IsCrash, $"{target}/{file}: {outcome.Error}");
    }

    [Theory]
    [InlineData("safetensors", "seed-lora-f32")]
    [InlineData("onnx-adapter", "seed-lora-pair")]
    [InlineData("adapter-config", "shipped-debian-sections-lora-r8")]
    [InlineData("bundle", "seed-classifier")]
    [InlineData("model-folder", "seed-bundle")]
    [InlineData("model-folder", "seed-base-model")]
    [InlineData("http-body", "seed-texts")]
    [InlineData("document", "sample-bristol.html")]
    public void Valid_seed_is_accepted(string target, string file)
    {
        var outcome = FuzzTargets.Create(target).Check(File.ReadAllBytes(Path.Combine(FuzzTargets.CorpusFolder(target), file)));
        Assert.False(outcome.IsRejected || outcome.IsCrash, $"{target}/{file} should parse: {outcome.Error}");
    }
}
