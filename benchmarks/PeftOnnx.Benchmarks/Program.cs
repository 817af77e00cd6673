using BenchmarkDotNet.Running;
using PeftOnnx.Benchmarks.Int8Agreement;
using PeftOnnx.Benchmarks.MergedVsBase;
using PeftOnnx.Benchmarks.TokenizerThroughput;

// Console modes first (alternating A/B timings that BenchmarkDotNet's sequential runs cannot give), then
// BenchmarkDotNet for every benchmark class: `dotnet run -c Release -- --filter '*Tokenizer*' --job short`.
if (args is ["merged-vs-base", .. var rest])
    return MergedVsBaseBench.Run(rest);
if (args is ["int8-agreement", .. var agreementArgs])
    return Int8AgreementBench.Run(agreementArgs);
if (args is ["tokenizer-cpu", .. var tokenizerArgs])
    return TokenizerThroughputBench.Run(tokenizerArgs);
BenchmarkSwitcher.FromAssembly(typeof(MergedVsBaseBench).Assembly).Run(args);
return 0;
