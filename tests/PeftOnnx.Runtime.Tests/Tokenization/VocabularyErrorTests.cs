using PeftOnnx.Core.Models;
using PeftOnnx.Runtime.Tokenization;

namespace PeftOnnx.Runtime.Tests.Tokenization;

public sealed class VocabularyErrorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("peftonnx-vocab-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string content)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public void A_missing_file_names_the_path()
    {
        string path = Path.Combine(_dir, "nope", "vocab.txt");
        var error = Assert.Throws<FileNotFoundException>(() => BertTokenizer.FromFile(path, new TokenizerSettings()));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[UNK]")]
    [InlineData("[CLS]")]
    [InlineData("[SEP]")]
    [InlineData("[PAD]")]
    public void A_vocabulary_without_a_special_token_is_refused(string missing)
    {
        var tokens = new[] { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "hello", "##s" }.Where(t => t != missing);
        string path = Write("vocab.txt", string.Join('\n', tokens) + "\n");
        var error = Assert.Throws<InvalidDataException>(() => BertTokenizer.FromFile(path, new TokenizerSettings()));
        Assert.Contains($"has no {missing} token", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_empty_vocabulary_is_refused()
    {
        string path = Write("vocab.txt", "");
        var error = Assert.Throws<InvalidDataException>(() => BertTokenizer.FromFile(path, new TokenizerSettings()));
        Assert.Contains("is empty", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_tiny_vocabulary_tokenizes_with_continuations_and_unknowns()
    {
        // CRLF line ends are trimmed as Hugging Face trims trailing whitespace.
        string path = Write("vocab.txt", "[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\nhello\r\n##s\r\n");
        var tokenizer = BertTokenizer.FromFile(path, new TokenizerSettings());
        Assert.Equal(6, tokenizer.VocabSize);
        Assert.Equal([2, 4, 5, 1, 3], tokenizer.Encode("HELLOs hellx").Ids);
    }

    [Fact]
    public void An_unsupported_tokenizer_type_is_refused()
    {
        string path = Write("vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n");
        var error = Assert.Throws<NotSupportedException>(() => BertTokenizer.FromFile(path, new TokenizerSettings { Type = "sentencepiece" }));
        Assert.Contains("'sentencepiece'", error.Message, StringComparison.Ordinal);
    }
}
