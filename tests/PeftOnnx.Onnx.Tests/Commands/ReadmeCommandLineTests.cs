using PeftOnnx.Cli.Commands.Common;
using PeftOnnx.Export.Cli;

namespace PeftOnnx.Onnx.Tests.Commands;

/// <summary>Every `peftonnx-export` line the READMEs show parses against the real command tree, so docs and CLI cannot drift.</summary>
public sealed class ReadmeCommandLineTests
{
    public static TheoryData<string> Documents => ["README.md", "export-tools/README.md", "docs/EXPORT.md", "docs/SIDE_GRAPHS.md", "docs/PERFORMANCE.md", "docs/MULTI_LABEL.md", "docs/PARALLEL.md"];

    [Theory]
    [MemberData(nameof(Documents))]
    public void Every_peftonnx_export_line_in_the_readme_matches_the_cli(string document)
    {
        var lines = ReadmeCommandLines.Read(Path.Combine(TestPaths.RepoRoot, document), "peftonnx-export", "dotnet run --project export-tools/PeftOnnx.Export.Cli -c Release --");
        Assert.NotEmpty(lines);
        var problems = lines.SelectMany(l => ReadmeCommandLines.Problems(l, PeftOnnxExportCli.BuildRootCommand(), LegacyAliases.Of).Select(p => $"{l}\n    {p}")).ToList();
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void Old_spellings_still_parse_as_the_renamed_options()
    {
        var root = PeftOnnxExportCli.BuildRootCommand();
        var export = root.Parse(["export", "--base", "b", "--adapter", "a", "--out", "bundle", "--force"]);
        Assert.Empty(export.Errors);
        Assert.Equal("bundle", export.GetValue<string>("--output"));
        Assert.True(export.GetValue<bool>("--overwrite"));

        var train = root.Parse(["train", "--base", "b", "--train", "t.jsonl", "--out", "adapter", "-m", "dora", "--batch", "8"]);
        Assert.Empty(train.Errors);
        Assert.Equal("adapter", train.GetValue<string>("--output"));
        Assert.Equal("dora", train.GetValue<string>("--method"));
        Assert.Equal(8, train.GetValue<int>("--batch-size"));

        var bench = root.Parse(["bench", "a.onnx", "b.onnx", "--batch", "4", "--seq", "16"]);
        Assert.Empty(bench.Errors);
        Assert.Equal(4, bench.GetValue<int>("--batch-size"));
        Assert.Equal(16, bench.GetValue<int>("--sequence"));
    }

    [Theory]
    [InlineData("export", "--overwrite", "--force")]
    [InlineData("export", "--output", "--out ")]
    [InlineData("train", "--batch-size", "--batch ")]
    [InlineData("train", "--method", "-m,")]
    public void Help_lists_the_current_name_only(string verb, string current, string old)
    {
        var (code, stdout, _) = CliRunner.Invoke(verb, "--help");
        Assert.Equal(0, code);
        Assert.Contains(current, stdout);
        Assert.DoesNotContain(old, stdout);
    }

    [Fact]
    public void Export_help_lists_every_registered_method()
    {
        var (_, stdout, _) = CliRunner.Invoke("export", "--help");
        foreach (var method in PeftOnnx.Core.Adapters.AdapterMethods.All)
            Assert.Contains(method.PeftType, stdout);
        foreach (var type in PeftOnnx.Onnx.Side.SideGraphMethods.PeftTypes)
            Assert.Contains(type, stdout);
    }
}
