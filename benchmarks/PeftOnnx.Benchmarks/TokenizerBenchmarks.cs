using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using PeftOnnx.Core.Models;
using PeftOnnx.Runtime.Tokenization;
using MlBertTokenizer = Microsoft.ML.Tokenizers.BertTokenizer;
using MlBertOptions = Microsoft.ML.Tokenizers.BertOptions;
using MlWordPieceTokenizer = Microsoft.ML.Tokenizers.WordPieceTokenizer;

namespace PeftOnnx.Benchmarks;

/// <summary>
/// Single-thread tokenization of the 2,446 debian-sections training texts with the MiniLM vocabulary.
/// Every benchmark tokenizes the whole corpus once per operation; the Mtok/s column is the corpus's
/// [CLS]...[SEP] token count (untruncated) divided by the mean time, so rows compare directly.
/// </summary>
[Config(typeof(Config))]
[MemoryDiagnoser]
public class TokenizerBenchmarks
{
    private string[] _texts = [];
    private BertTokenizer _tokenizer = null!;
    private MlBertTokenizer _mlBert = null!;
    private MlWordPieceTokenizer _mlWordPiece = null!;
    private FastBertTokenizer.BertTokenizer _fastBert = null!;
    private readonly long[] _fastIds = new long[16384];
    private readonly long[] _fastMask = new long[16384];

    private sealed class Config : ManualConfig
    {
        // The generated benchmark project also builds the toolchain this project references (protobuf code
        // generation), which takes longer than BenchmarkDotNet's default two minutes on a busy machine.
        public Config() => AddColumn(new TokensPerSecondColumn()).WithBuildTimeout(TimeSpan.FromMinutes(10));
    }

    [GlobalSetup]
    public void Setup()
    {
        _texts = BenchmarkData.Texts("debian-sections.train.jsonl");
        string vocab = BenchmarkData.Model("minilm-l6", "vocab.txt");
        _tokenizer = BertTokenizer.FromFile(vocab, new TokenizerSettings());
        _mlBert = MlBertTokenizer.Create(vocab, new MlBertOptions { LowerCaseBeforeTokenization = true, RemoveNonSpacingMarks = true });
        _mlWordPiece = MlWordPieceTokenizer.Create(vocab);
        _fastBert = new FastBertTokenizer.BertTokenizer();
        using (var reader = new StreamReader(vocab))
            _fastBert.LoadVocabulary(reader, convertInputToLowercase: true);
        Console.WriteLine($"// corpus: {_texts.Length} texts, {CorpusTokens.Value} tokens incl. [CLS]/[SEP]");
    }

    [Benchmark(Baseline = true, Description = "Microsoft.ML.Tokenizers BertTokenizer")]
    public long MlTokenizersBert()
    {
        long tokens = 0;
        foreach (var text in _texts)
            tokens += _mlBert.EncodeToIds(text, addSpecialTokens: true, considerPreTokenization: true, considerNormalization: true).Count;
        return tokens;
    }

    [Benchmark(Description = "FastBertTokenizer")]
    public long FastBert()
    {
        long tokens = 0;
        foreach (var text in _texts)
            tokens += _fastBert.Encode(text, _fastIds, _fastMask, null);
        return tokens;
    }

    [Benchmark(Description = "PeftOnnx Encode (ids + offsets)")]
    public long PeftOnnxEncode()
    {
        long tokens = 0;
        foreach (var text in _texts)
            tokens += _tokenizer.Encode(text).Length;
        return tokens;
    }

    [Benchmark(Description = "PeftOnnx Encode, maxLength 128")]
    public long PeftOnnxEncode128()
    {
        long tokens = 0;
        foreach (var text in _texts)
            tokens += _tokenizer.Encode(text, 128).Length;
        return tokens;
    }

    [Benchmark(Description = "PeftOnnx CountTokens")]
    public long PeftOnnxCount()
    {
        long tokens = 0;
        foreach (var text in _texts)
            tokens += _tokenizer.CountTokens(text) + 2;
        return tokens;
    }

    [Benchmark(Description = "PeftOnnx split + ML.Tokenizers WordPiece per word")]
    public long PeftOnnxSplitMlWordPiece()
    {
        var sink = new MlWordPieceSink(_mlWordPiece);
        var splitter = new BertWordSplitter(lowercase: true, stripAccents: true, spaceOutChinese: true);
        var word = new WordBuffer();
        foreach (var text in _texts)
            splitter.Split(text, sink, word);
        return sink.Tokens + 2L * _texts.Length;
    }

    /// <summary>Our normaliser and pre-tokeniser feeding Microsoft.ML.Tokenizers' WordPiece model one word at a time.</summary>
    private sealed class MlWordPieceSink(MlWordPieceTokenizer wordPiece) : IWordSink
    {
        public long Tokens { get; private set; }

        public bool Accept(ReadOnlySpan<char> word, ReadOnlySpan<int> sourceStarts, ReadOnlySpan<int> sourceEnds, int codePoints)
        {
            Tokens += wordPiece.EncodeToIds(word, considerPreTokenization: false, considerNormalization: false).Count;
            return true;
        }
    }

    private static readonly Lazy<long> CorpusTokens = new(() =>
    {
        var tokenizer = BertTokenizer.FromFile(BenchmarkData.Model("minilm-l6", "vocab.txt"), new TokenizerSettings());
        return BenchmarkData.Texts("debian-sections.train.jsonl").Sum(t => (long)tokenizer.Encode(t).Length);
    });

    /// <summary>Millions of corpus tokens per second: the untruncated [CLS]...[SEP] token count over the mean time.</summary>
    private sealed class TokensPerSecondColumn : IColumn
    {
        public string Id => nameof(TokensPerSecondColumn);
        public string ColumnName => "Mtok/s";
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 0;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => "Million corpus tokens ([CLS]/[SEP] included, untruncated) per second, one thread";

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var statistics = summary[benchmarkCase]?.ResultStatistics;
            return statistics is null ? "NA" : (CorpusTokens.Value / (statistics.Mean / 1e9) / 1e6).ToString("F2");
        }

        public bool IsAvailable(Summary summary) => true;
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    }
}
