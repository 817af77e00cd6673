using PeftOnnx.Training.Data;

namespace PeftOnnx.Training.Tests;

/// <summary>Training data readers, their error messages, the stratified split and length bucketing.</summary>
public sealed class DataTests : IDisposable
{
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Reads_jsonl_csv_and_label_folders()
    {
        var jsonl = TextClassificationData.Read(_dir.File("a.jsonl", "{\"text\": \"mail server\", \"label\": \"mail\"}\n\n{\"text\": \"chess\", \"label\": \"games\", \"id\": 3}\n"));
        Assert.Equal(["mail", "games"], jsonl.Select(r => r.Label));

        var csv = TextClassificationData.Read(_dir.File("a.csv", "id,label,text\n1,mail,\"a \"\"quoted\"\", multi\nline text\"\n2,games,chess\n"));
        Assert.Equal("a \"quoted\", multi\nline text", csv[0].Text);
        Assert.Equal("games", csv[1].Label);

        _dir.File("folder/mail/one.txt", "postfix");
        _dir.File("folder/games/x.txt", "chess engine");
        _dir.File("folder/games/y.txt", "tetris");
        var folder = TextClassificationData.Read(System.IO.Path.Combine(_dir.Path, "folder"));
        Assert.Equal(3, folder.Count);
        Assert.Equal(2, folder.Count(r => r.Label == "games"));
    }

    [Fact]
    public void Empty_text_is_refused_with_file_and_line()
    {
        var path = _dir.File("e.jsonl", "{\"text\": \"ok\", \"label\": \"a\"}\n{\"text\": \"  \", \"label\": \"b\"}\n");
        var e = Assert.Throws<DatasetFormatException>(() => TextClassificationData.Read(path));
        Assert.Contains("e.jsonl:2", e.Message, StringComparison.Ordinal);
        Assert.Contains("empty", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Label_folder_without_files_is_refused()
    {
        _dir.File("f/mail/one.txt", "postfix");
        Directory.CreateDirectory(System.IO.Path.Combine(_dir.Path, "f", "games"));
        var e = Assert.Throws<DatasetFormatException>(() => TextClassificationData.Read(System.IO.Path.Combine(_dir.Path, "f")));
        Assert.Contains("label 'games' has no examples", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unreadable_file_is_named()
    {
        var dir = System.IO.Path.Combine(_dir.Path, "u", "mail");
        Directory.CreateDirectory(dir);
        var bad = System.IO.Path.Combine(dir, "latin1.txt");
        File.WriteAllBytes(bad, [0x63, 0x61, 0x66, 0xE9, 0x20, 0xFF]);
        var e = Assert.Throws<DatasetFormatException>(() => TextClassificationData.Read(System.IO.Path.Combine(_dir.Path, "u")));
        Assert.Contains("latin1.txt", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Dev_labels_unseen_in_training_are_refused()
    {
        var labels = new LabelSet(["mail", "games"]);
        var e = Assert.Throws<DatasetFormatException>(() => labels.RequireKnown([new LabeledText("x", "sound", "dev.jsonl:4")], "dev.jsonl"));
        Assert.Contains("'sound'", e.Message, StringComparison.Ordinal);
        Assert.Contains("dev.jsonl:4", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_csv_columns_and_unknown_extensions_are_refused()
    {
        Assert.Contains("'label'", Assert.Throws<DatasetFormatException>(() => TextClassificationData.Read(_dir.File("n.csv", "text,category\na,b\n"))).Message, StringComparison.Ordinal);
        Assert.Contains(".tsv", Assert.Throws<DatasetFormatException>(() => TextClassificationData.Read(_dir.File("n.tsv", "x"))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Stratified_split_is_seeded_and_keeps_every_label()
    {
        var rows = Enumerable.Range(0, 100).Select(i => new LabeledText($"t{i}", i < 80 ? "big" : "small", $"row {i}")).ToList();
        var (train, dev) = StratifiedSplit.Split(rows, 0.1, seed: 3);
        Assert.Equal(8, dev.Count(r => r.Label == "big"));
        Assert.Equal(2, dev.Count(r => r.Label == "small"));
        Assert.Equal(90, train.Count);
        var (_, again) = StratifiedSplit.Split(rows, 0.1, seed: 3);
        Assert.Equal(dev.Select(r => r.Text), again.Select(r => r.Text));
        var (_, other) = StratifiedSplit.Split(rows, 0.1, seed: 4);
        Assert.NotEqual(dev.Select(r => r.Text), other.Select(r => r.Text));
    }

    [Fact]
    public void Length_buckets_cover_every_example_once_and_group_similar_lengths()
    {
        var random = new Random(1);
        var examples = Enumerable.Range(0, 1000).Select(i => new TokenizedExample(new int[3 + random.Next(120)], 0)).ToList();
        var batches = LengthBuckets.ForTraining(examples, 32, new Random(2));
        Assert.Equal(Enumerable.Range(0, 1000), batches.SelectMany(b => b).Order());
        long padded = batches.Sum(b => (long)b.Length * b.Max(i => examples[i].Length));
        long naive = examples.Chunk(32).Sum(c => (long)c.Length * c.Max(e => e.Length));
        Assert.True(padded < naive * 0.8, $"bucketing pads {padded} tokens, unsorted batches {naive}");
    }
}
