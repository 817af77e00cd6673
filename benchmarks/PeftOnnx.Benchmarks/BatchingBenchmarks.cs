using BenchmarkDotNet.Attributes;
using PeftOnnx.Core.Models;
using PeftOnnx.Runtime.Inference;
using PeftOnnx.Runtime.Tokenization;

namespace PeftOnnx.Benchmarks;

/// <summary>
/// The work between tokenizer and session for the 817 debian-sections test texts (truncated to 128 tokens):
/// planning length buckets and filling the int64 input tensors, bucketed (padded to each batch's longest row) versus
/// in file order padded to 128. The padded-token counts these produce are what the session then computes.
/// </summary>
[MemoryDiagnoser]
public class BatchingBenchmarks
{
    private const int MaxLength = 128;
    private TokenizedText[] _rows = [];
    private int[] _lengths = [];
    private int _padId;
    private long[] _ids = [];
    private long[] _mask = [];
    private long[] _types = [];

    [Params(8, 32, 128)]
    public int BatchSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var tokenizer = BertTokenizer.FromFile(BenchmarkData.Model("minilm-l6", "vocab.txt"), new TokenizerSettings());
        _rows = [.. BenchmarkData.Texts("debian-sections.test.jsonl").Select(t => tokenizer.Encode(t, MaxLength))];
        _lengths = [.. _rows.Select(r => r.Length)];
        _padId = tokenizer.PadId;
        _ids = new long[BatchSize * MaxLength];
        _mask = new long[BatchSize * MaxLength];
        _types = new long[BatchSize * MaxLength];
    }

    /// <summary>Plan buckets and build every batch into reused buffers; returns the padded tokens (rows x longest row).</summary>
    [Benchmark]
    public long Bucketed()
    {
        long padded = 0;
        foreach (var plan in LengthBuckets.Plan(_lengths, BatchSize))
        {
            var batch = TokenBatch.Create([.. plan.Select(i => _rows[i])], _padId, _ids, _mask, _types);
            padded += batch.ElementCount;
        }
        return padded;
    }

    /// <summary>File order, every batch padded to 128: what a plain program feeds the session.</summary>
    [Benchmark(Baseline = true)]
    public long FileOrderPaddedToMax()
    {
        long padded = 0;
        for (var start = 0; start < _rows.Length; start += BatchSize)
        {
            var count = Math.Min(BatchSize, _rows.Length - start);
            Array.Clear(_ids);
            Array.Clear(_mask);
            for (var r = 0; r < count; r++)
            {
                var row = _rows[start + r].Ids;
                for (var t = 0; t < row.Length; t++)
                {
                    _ids[(r * MaxLength) + t] = row[t];
                    _mask[(r * MaxLength) + t] = 1;
                }
            }
            padded += (long)count * MaxLength;
        }
        return padded;
    }
}
