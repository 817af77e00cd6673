using System.CommandLine;
using PeftOnnx.Cli.Commands.Common;

namespace PeftOnnx.Cli.Tests.Commands;

/// <summary>Every `peftonnx` line the READMEs show parses against the real command tree, so docs and CLI cannot drift.</summary>
public sealed class ReadmeCommandLineTests
{
    public static TheoryData<string> Documents => ["README.md", "docs/EXPORT.md", "docs/SIDE_GRAPHS.md", "docs/PERFORMANCE.md", "docs/MULTI_LABEL.md", "docs/PARALLEL.md"];

    [Theory]
    [MemberData(nameof(Documents))]
    public void Every_peftonnx_line_in_the_readme_matches_the_cli(string document)
    {
        var lines = ReadmeCommandLines.Read(Path.Combine(TestPaths.RepoRoot, document), "peftonnx", "dotnet run --project src/PeftOnnx.Cli -c Release --");
        Assert.NotEmpty(lines);
        var problems = lines.SelectMany(l => ReadmeCommandLines.Problems(l, PeftOnnxCli.BuildRootCommand(), LegacyAliases.Of).Select(p => $"{l}\n    {p}")).ToList();
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void The_readme_shows_most_verbs() =>
        Assert.True(ReadmeCommandLines.Read(Path.Combine(TestPaths.RepoRoot, "README.md"), "peftonnx").Count >= 10);

    [Fact]
    public void Text_takes_several_values_after_one_flag_or_repeated()
    {
        var root = PeftOnnxCli.BuildRootCommand();
        var several = root.Parse(["tokenize", "-m", "minilm-l6", "--text", "one", "two words", "three"]);
        Assert.Empty(several.Errors);
        Assert.Equal(["one", "two words", "three"], several.GetValue<string[]>("--text")!);
        var repeated = root.Parse(["embed", "-m", "minilm-l6", "--text", "one", "--text", "two", "-o", "x.jsonl"]);
        Assert.Empty(repeated.Errors);
        Assert.Equal(["one", "two"], repeated.GetValue<string[]>("--text")!);
    }
}
