using BenchmarkDotNet.Attributes;
using PeftOnnx.Core.Models;
using PeftOnnx.Benchmarking;
using PeftOnnx.Runtime.Tokenization;

namespace PeftOnnx.Benchmarks;

/// <summary>
/// One CPU session call on the shipped MiniLM at sequence 128, full-length synthetic rows: the plain ONNX Runtime
/// program (default options, OrtValues made per call, all outputs) versus the runtime's IOBinding path (inputs and
/// output buffers bound once per shape). Set PEFTONNX_BENCH_MODEL to time another model file (a fused or int8 export).
/// </summary>
public sealed class SessionRunBenchmarks : IDisposable
{
    private const int Sequence = 128;
    private PlainOrtTarget _plain = null!;
    private BoundSessionTarget _bound = null!;

    [Params(1, 8)]
    public int BatchSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var model = Environment.GetEnvironmentVariable("PEFTONNX_BENCH_MODEL") ?? BenchmarkData.Model("minilm-l6", "model.onnx");
        var tokenizer = BertTokenizer.FromFile(BenchmarkData.Model("minilm-l6", "vocab.txt"), new TokenizerSettings());
        var batch = BenchInputs.Synthetic(tokenizer, BatchSize, Sequence);
        _plain = new PlainOrtTarget("plain", model, cuda: false);
        _bound = new BoundSessionTarget("bound", model, new BenchSessionOptions());
        _plain.Prepare(batch);
        _bound.Prepare(batch);
    }

    [Benchmark(Baseline = true)]
    public void PlainRun() => _plain.Run();

    [Benchmark]
    public void BoundRun() => _bound.Run();

    [GlobalCleanup]
    public void Dispose()
    {
        _plain?.Dispose();
        _bound?.Dispose();
    }
}
