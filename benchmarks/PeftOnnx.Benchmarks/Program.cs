using BenchmarkDotNet.Running;
using PeftOnnx.Benchmarks.MergedVsBase;

// Console modes first (alternating A/B timings that BenchmarkDotNet's sequential runs cannot give), then BenchmarkDotNet.
if (args is ["merged-vs-base", .. var rest])
    return MergedVsBaseBench.Run(rest);
BenchmarkSwitcher.FromAssembly(typeof(MergedVsBaseBench).Assembly).Run(args);
return 0;
