using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using PeftOnnx.Benchmarking;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.Json;
using PeftOnnx.Core.OrtAdapters;
using PeftOnnx.Onnx.Export;
using PeftOnnx.Runtime.Adapters;
using PeftOnnx.Runtime.Sessions;

// peftonnx-sidebench <repo root> [repetitions] [batch] [sequence]
// Side-graph serving costs on this machine: unmerged LoRA vs merged, mixed batches vs one adapter, adapter switching,
// hot-loading adapters while serving. Adapters are LoRA r8 on query and value with random weights.
var root = args.Length > 0 ? args[0] : ".";
var repetitions = args.Length > 1 ? int.Parse(args[1]) : 7;
var batch = args.Length > 2 ? int.Parse(args[2]) : 32;
var sequence = args.Length > 3 ? int.Parse(args[3]) : 128;
var baseDir = Path.Combine(root, "models", "minilm-l6");
var golden = Path.Combine(root, "tests", "fixtures", "peft", "lora_qv_r8");
var work = Directory.CreateTempSubdirectory("peftonnx-sidebench-").FullName;
var settings = new SessionSettings { Device = DeviceKind.Cpu };
try
{
    Console.Error.WriteLine($"exporting bundles into {work}");
    var merged = new BundleExporter().Export(new BundleExportOptions { BaseDirectory = baseDir, AdapterDirectory = golden, OutputDirectory = Path.Combine(work, "merged") });
    var side = new SideBundleExporter().Export(new SideBundleOptions { BaseDirectory = baseDir, AdapterDirectories = [golden], OutputDirectory = Path.Combine(work, "side") }).Directory;
    var mixed = new SideBundleExporter().Export(new SideBundleOptions { BaseDirectory = baseDir, AdapterDirectories = [golden], OutputDirectory = Path.Combine(work, "mixed"), Form = SideGraphManifest.MixedForm }).Directory;
    var sideManifest = PeftJson.Load<SideGraphManifest>(Path.Combine(side, SideGraphManifest.FileName));
    foreach (var folder in new[] { side, mixed })
    {
        for (var k = 0; k < 8; k++)
            RandomAdapter(sideManifest, 8, k).Save(Path.Combine(folder, SideGraphManifest.AdapterFolder, $"tenant{k}{OrtAdapterFile.Extension}"));
    }

    var random = new Random(7);
    var ids = new long[batch * sequence];
    for (var i = 0; i < ids.Length; i++)
        ids[i] = i % sequence == 0 ? 101 : i % sequence == sequence - 1 ? 102 : random.Next(1000, 30000);
    var inputs = new SideInputs(ids, [.. Enumerable.Repeat(1L, ids.Length)], new long[ids.Length], batch, sequence);
    var tokens = (double)batch * sequence;
    Console.WriteLine($"CPU, {Environment.ProcessorCount} cores, batch {batch}, sequence {sequence}, {repetitions} alternating repetitions, medians");
    Console.WriteLine();

    using var sideModel = SideModel.Load(side, settings, watch: false);
    using var mixedModel = SideModel.Load(mixed, settings, watch: false);
    using var mergedSession = new InferenceSession(Path.Combine(merged.Directory, "model.onnx"), Options());

    // 1. unmerged LoRA (side graph + OrtLoraAdapter) vs merged
    var (tMerged, tSide, pairedSide) = Compare(
        () => RunPlain(mergedSession, inputs),
        () => sideModel.Run(inputs, "lora_qv_r8"),
        repetitions);
    Console.WriteLine("| variant | median ms | tok/s | ratio |");
    Console.WriteLine("|---|---|---|---|");
    Console.WriteLine($"| merged LoRA q,v r8 | {tMerged:F1} | {tokens / tMerged * 1000:F0} | 1.00 |");
    Console.WriteLine($"| side graph + OrtLoraAdapter (q,v r8) | {tSide:F1} | {tokens / tSide * 1000:F0} | {tSide / tMerged:F3}x time (paired median {pairedSide:F3}x) |");

    // 2. mixed batch: 8 different adapters in one run vs all rows one adapter (same mixed graph), and vs the side graph
    string?[] eight = [.. Enumerable.Range(0, batch).Select(i => $"tenant{i % 8}")];
    string?[] one = [.. Enumerable.Repeat<string?>("tenant0", batch)];
    var (tOne, tEight, pairedEight) = Compare(() => mixedModel.RunMixed(inputs, one), () => mixedModel.RunMixed(inputs, eight), repetitions);
    var (tSideOne, tMixedEight, _) = Compare(() => sideModel.Run(inputs, "tenant0"), () => mixedModel.RunMixed(inputs, eight), repetitions);
    var grouped = new AlternatingTimer(3, warmupCalls: 0).Measure([() =>
    {
        for (var k = 0; k < 8; k++)
            sideModel.Run(inputs.Rows([.. Enumerable.Range(0, batch).Where(i => i % 8 == k)]), $"tenant{k}");
    }])[0].Median;
    Console.WriteLine($"| mixed graph, 1 adapter for all rows | {tOne:F1} | {tokens / tOne * 1000:F0} | 1.00 |");
    Console.WriteLine($"| mixed graph, 8 adapters in one batch | {tEight:F1} | {tokens / tEight * 1000:F0} | {tOne / tEight:F3}x throughput (paired median {1 / pairedEight:F3}x) |");
    Console.WriteLine($"| side graph, 1 adapter (OrtLoraAdapter) | {tSideOne:F1} | {tokens / tSideOne * 1000:F0} | 1.00 |");
    Console.WriteLine($"| mixed graph, 8 adapters (vs side, 1 adapter) | {tMixedEight:F1} | {tokens / tMixedEight * 1000:F0} | {tSideOne / tMixedEight:F3}x throughput |");
    Console.WriteLine($"| side graph, 8 adapters grouped (8 runs of {batch / 8}) | {grouped:F1} | {tokens / grouped * 1000:F0} | {tSideOne / grouped:F3}x throughput |");
    Console.WriteLine();

    // 3. switching the active adapter: lease + RunOptions + AddActiveLoraAdapter, and a short run same vs alternating adapter
    const int switches = 2000;
    var watch = Stopwatch.StartNew();
    for (var i = 0; i < switches; i++)
    {
        using var lease = sideModel.Registry.Acquire($"tenant{i % 8}");
        using var runOptions = new RunOptions();
        runOptions.AddActiveLoraAdapter(lease.Adapter.Native);
    }
    var switchUs = watch.Elapsed.TotalMilliseconds * 1000 / switches;
    var small = inputs.Rows([0]) with { };
    var shortRow = new SideInputs(small.InputIds[..16], small.AttentionMask[..16], small.TokenTypeIds[..16], 1, 16);
    var n = 0;
    var (tSame, tSwitch, _) = Compare(
        () => { for (var i = 0; i < 20; i++) sideModel.Run(shortRow, "tenant0"); },
        () => { for (var i = 0; i < 20; i++) sideModel.Run(shortRow, $"tenant{n++ % 8}"); },
        repetitions);
    Console.WriteLine("| adapter switching | value |");
    Console.WriteLine("|---|---|");
    Console.WriteLine($"| lease + RunOptions + AddActiveLoraAdapter | {switchUs:F1} µs |");
    Console.WriteLine($"| batch 1 x 16 tokens, same adapter every run | {tSame / 20:F3} ms/run |");
    Console.WriteLine($"| batch 1 x 16 tokens, next adapter every run | {tSwitch / 20:F3} ms/run (+{(tSwitch - tSame) / 20:F3} ms) |");

    // 4. hot loading: serve continuously from two threads while new adapter files land in the folder
    using var served = SideModel.Load(side, settings, watch: true);
    var failures = 0;
    var requests = 0;
    using var stop = new CancellationTokenSource();
    var servers = Enumerable.Range(0, 2).Select(t => Task.Run(() =>
    {
        var i = 0;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                served.Run(shortRow, $"tenant{(t + i++) % 8}");
                Interlocked.Increment(ref requests);
            }
            catch (Exception e)
            {
                Interlocked.Increment(ref failures);
                Console.Error.WriteLine($"request failed: {e.Message}");
            }
        }
    })).ToList();
    watch.Restart();
    for (var k = 0; k < 8; k++)
    {
        RandomAdapter(sideManifest, 4 + k, 100 + k).Save(Path.Combine(side, SideGraphManifest.AdapterFolder, $"late{k}{OrtAdapterFile.Extension}"));
        RandomAdapter(sideManifest, 8, 200 + k).Save(Path.Combine(side, SideGraphManifest.AdapterFolder, $"tenant{k}{OrtAdapterFile.Extension}")); // replace while in use
        Thread.Sleep(250);
    }
    var visible = SpinWait.SpinUntil(() => Enumerable.Range(0, 8).All(k => served.Registry.Adapters.ContainsKey($"late{k}")), 5000);
    stop.Cancel();
    Task.WaitAll([.. servers]);
    Console.WriteLine($"| hot load: 8 new + 8 replaced files while serving | {requests} requests, {failures} failed, all new adapters served: {visible} |");
}
finally
{
    Directory.Delete(work, recursive: true);
}

// Medians of A and B timed alternately by the shared timer, and the median of the paired B/A ratios (robust when the
// shared host's speed drifts between pairs).
static (double A, double B, double PairedRatio) Compare(Action a, Action b, int repetitions)
{
    var times = new AlternatingTimer(repetitions).Measure([a, b]);
    return (times[0].Median, times[1].Median, LatencySummary.PairedRatio(times[0], times[1]));
}

static SessionOptions Options() => new() { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = PeftOnnx.Runtime.Sessions.MachineInfo.PhysicalCores, InterOpNumThreads = 1 };

static void RunPlain(InferenceSession session, SideInputs x)
{
    long[] shape = [x.BatchSize, x.SequenceLength];
    using var ids = OrtValue.CreateTensorValueFromMemory(x.InputIds, shape);
    using var mask = OrtValue.CreateTensorValueFromMemory(x.AttentionMask, shape);
    using var types = OrtValue.CreateTensorValueFromMemory(x.TokenTypeIds, shape);
    using var runOptions = new RunOptions();
    using var results = session.Run(runOptions, ["input_ids", "attention_mask", "token_type_ids"], [ids, mask, types], ["last_hidden_state"]);
}

static OrtAdapterFile RandomAdapter(SideGraphManifest side, int rank, int seed)
{
    var random = new Random(seed);
    var parameters = new List<OrtAdapterParameter>();
    foreach (var slot in side.Lora)
    {
        float[] Values(int count) => [.. Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() - 0.5) * 0.05f)];
        parameters.Add(OrtAdapterParameter.FromFloat32(SideAdapterCheck.SideName(slot.AInput), Values(slot.InFeatures * rank), slot.InFeatures, rank));
        parameters.Add(OrtAdapterParameter.FromFloat32(SideAdapterCheck.SideName(slot.BInput), Values(rank * slot.OutFeatures), rank, slot.OutFeatures));
    }
    return new OrtAdapterFile(parameters);
}
