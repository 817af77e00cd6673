#:project /work/main/export-tools/PeftOnnx.Onnx
#:property TreatWarningsAsErrors=false
#:property NoWarn=CA1303;CA1305;CA1307;CA1310;CA1852;CA1861;IDE0005;CA2007
#:property PublishAot=false
#:property ManagePackageVersionsCentrally=false
#:package Microsoft.ML.OnnxRuntime@1.31.0
#:property JsonSerializerIsReflectionEnabledByDefault=true
using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using PeftOnnx.Onnx;
using PeftOnnx.Onnx.Passes;
using PeftOnnx.Onnx.Passes.Fusions;
var src = args[0]; var dir = args[1]; int rounds = int.Parse(args[2]); int b = 32, t = 128;
Directory.CreateDirectory(dir);
var variants = new Dictionary<string, Func<Onnx.ModelProto, string>>
{
  ["fp32"] = m => "",
  ["int8"] = m => new DynamicInt8QuantizationPass().Apply(m),
  ["int8-nopack"] = m => new DynamicInt8QuantizationPass { PackSharedInputs = false }.Apply(m),
  ["mha-int8"] = m => { TransformerFusion.Apply(m, [new AttentionFusion(AttentionFusionKind.MultiHeadAttention)]); return new DynamicInt8QuantizationPass().Apply(m); },
  ["mha-int8-nopack"] = m => { var r = TransformerFusion.Apply(m, [new AttentionFusion(AttentionFusionKind.MultiHeadAttention)]); Console.WriteLine(string.Join(";", r.Select(x => x.ToString()))); return new DynamicInt8QuantizationPass { PackSharedInputs = false }.Apply(m); },
  ["mha-fp32"] = m => { TransformerFusion.Apply(m, [new AttentionFusion(AttentionFusionKind.MultiHeadAttention)]); return ""; },
};
var sessions = new List<(string, InferenceSession)>();
foreach (var (name, f) in variants) {
  var path = Path.Combine(dir, name + ".onnx");
  if (!File.Exists(path)) { var m = OnnxModelFile.Load(src); f(m); OnnxModelFile.Save(m, path); }
  var so = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
  sessions.Add((name, new InferenceSession(path, so)));
}
var rnd = new Random(1); var ids = new long[b * t]; for (int i = 0; i < ids.Length; i++) ids[i] = 1000 + rnd.Next(20000);
var mask = Enumerable.Repeat(1L, b * t).ToArray(); var tt = new long[b * t]; long[] shape = [b, t];
float[]? reference = null;
var times = sessions.ToDictionary(s => s.Item1, _ => new List<double>());
for (int r = -1; r < rounds; r++) foreach (var (name, s) in sessions) {
  using var i1 = OrtValue.CreateTensorValueFromMemory(ids, shape); using var i2 = OrtValue.CreateTensorValueFromMemory(mask, shape); using var i3 = OrtValue.CreateTensorValueFromMemory(tt, shape);
  var names = s.InputMetadata.Keys.ToList(); var vals = names.Select(n => n == "input_ids" ? i1 : n == "attention_mask" ? i2 : i3).ToArray();
  var sw = Stopwatch.StartNew(); using var ro = new RunOptions(); using var o = s.Run(ro, names, vals, [s.OutputNames[0]]); sw.Stop();
  var outv = o[0].GetTensorDataAsSpan<float>().ToArray();
  if (r == -1) { reference ??= outv; Console.WriteLine($"{name}: max|diff| vs fp32 {reference.Zip(outv).Max(p => Math.Abs(p.First - p.Second)):E2}"); }
  else times[name].Add(sw.Elapsed.TotalMilliseconds);
}
var fp = Median(times["fp32"]);
foreach (var (name, l) in times) Console.WriteLine($"{name,-18} median {Median(l),8:F1} ms  speedup vs fp32 {fp / Median(l):F2}x");
static double Median(List<double> l) { var a = l.OrderBy(x => x).ToArray(); return a[a.Length / 2]; }
