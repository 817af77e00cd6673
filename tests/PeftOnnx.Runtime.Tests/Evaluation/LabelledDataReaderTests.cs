using PeftOnnx.Runtime.Evaluation;
using PeftOnnx.Runtime.Tests.Documents;
using PeftOnnx.Tests;

namespace PeftOnnx.Runtime.Tests.Evaluation;

public sealed class LabelledDataReaderTests : IDisposable
{
    private readonly TempFolder _folder = new();

    [Fact]
    public void Reads_the_debian_sections_jsonl_format()
    {
        var examples = LabelledDataReader.Read(TestPaths.Data("debian-sections.test.jsonl"));
        Assert.Equal(817, examples.Count);
        Assert.Equal(12, examples.Select(e => e.Label).Distinct().Count());
        Assert.Equal("clonalframe", examples[0].Id);
        Assert.Equal("science", examples[0].Label);
    }

    [Fact]
    public void Reads_csv_with_text_and_label_columns()
    {
        var examples = LabelledDataReader.Read(_folder.File("d.csv", "label,text\ngames,\"chess, the game\"\nsound,mixer\n"));
        Assert.Equal([("games", "chess, the game"), ("sound", "mixer")], examples.Select(e => (e.Label, e.Text)));
    }

    [Fact]
    public void Reads_a_folder_per_label()
    {
        _folder.File("data/games/chess.txt", "chess engine");
        _folder.File("data/sound/mixer.md", "audio mixer");
        _folder.File("data/sound/more/synth.txt", "synthesizer");
        var examples = LabelledDataReader.Read(Path.Combine(_folder.Path, "data"));
        Assert.Equal(["games", "sound", "sound"], examples.Select(e => e.Label));
        Assert.Equal("sound/more/synth.txt", examples[2].Id);
    }

    [Fact]
    public void Malformed_rows_are_errors_with_the_line()
    {
        var missingLabel = Assert.Throws<InvalidDataException>(() => LabelledDataReader.Read(_folder.File("a.jsonl", "{\"text\":\"x\",\"label\":\"a\"}\n{\"text\":\"y\"}\n")));
        Assert.Contains("line 2", missingLabel.Message);
        Assert.Contains("\"label\"", missingLabel.Message);
        var csv = Assert.Throws<InvalidDataException>(() => LabelledDataReader.Read(_folder.File("b.csv", "text,category\nx,y\n")));
        Assert.Contains("\"text\" and \"label\"", csv.Message);
        Assert.Throws<FileNotFoundException>(() => LabelledDataReader.Read(Path.Combine(_folder.Path, "none.jsonl")));
        Assert.Throws<InvalidDataException>(() => LabelledDataReader.Read(_folder.File("c.txt", "x")));
    }

    public void Dispose() => _folder.Dispose();
}
