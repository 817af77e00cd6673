using PeftOnnx.Onnx.Methods.Bottleneck;
using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Adapters.Bottleneck;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.SafeTensors;
using PeftOnnx.Onnx.Export;
using PeftOnnx.Runtime.Adapters;
using PeftOnnx.Runtime.Sessions;
using PeftOnnx.Tests;
using PeftOnnx.Training.Encoder;
using PeftOnnx.Training.Methods.Bottleneck;
using PeftOnnx.Training.TrainingLoop;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Tests;

/// <summary>
/// Bottleneck adapters have no PEFT reference: the TorchSharp trainer's forward is the reference for the ONNX side
/// graph (BottleneckAdapterPass). The adapter's up-projections start at zero, so they are randomised first.
/// </summary>
public sealed class BottleneckSideParityTests(MiniLmFixture miniLm, ITestOutputHelper output) : IClassFixture<MiniLmFixture>
{
    [Theory]
    [InlineData(BottleneckConfig.Houlsby, "relu")]
    [InlineData(BottleneckConfig.Pfeiffer, "gelu")]
    [InlineData(BottleneckConfig.Houlsby, "swish")]
    public void Side_graph_logits_match_the_trainer(string variant, string nonLinearity)
    {
        var adapterDir = Directory.CreateTempSubdirectory("peftonnx-bottleneck-").FullName;
        try
        {
            var (batch, _, shape) = MiniLmFixture.Golden("seqcls_lora_qv_r8", "expected_logits");
            using var _b = batch;
            using var model = miniLm.Base.CreateClassifier((int)shape[1], Pooling.Pooler);
            var method = new BottleneckMethod(new BottleneckConfig { Variant = variant, ReductionFactor = 16, NonLinearity = nonLinearity });
            method.Apply(model);
            torch.manual_seed(11);
            using (no_grad())
            {
                foreach (var (name, p) in model.named_parameters().Where(p => p.parameter.requires_grad))
                    p.copy_(torch.randn(p.shape) * 0.05f);
            }
            var tensors = model.named_parameters()
                .Where(p => p.parameter.requires_grad)
                .Select(p => SafeTensor.FromFloat32(method.AdapterKey(p.name), TrainerCheckpoint.ToArray(p.parameter), p.parameter.shape))
                .ToList();
            var adapter = Path.Combine(adapterDir, "tenant");
            PeftAdapterWriter.Write(adapter, method.AdapterConfig(model.Bert.Config), tensors);

            model.eval();
            float[] expected;
            using (inference_mode())
            using (var logits = model.forward(batch))
                expected = logits.data<float>().ToArray();

            var bundle = new SideBundleExporter().Export(new SideBundleOptions
            {
                BaseDirectory = TestModels.EnsurePulled("minilm-l6"),
                AdapterDirectories = [adapter],
                OutputDirectory = Path.Combine(adapterDir, "bundle"),
            }).Directory;
            using var side = SideModel.Load(bundle, new SessionSettings { Device = DeviceKind.Cpu, IntraOpThreads = 1 }, watch: false);
            using var file = SafeTensorFile.Open(TestPaths.Fixture("peft", "seqcls_lora_qv_r8", "reference.safetensors"));
            var inputShape = file["input_ids"].Shape;
            var inputs = new SideInputs(file.ReadInt64("input_ids"), file.ReadInt64("attention_mask"), file.ReadInt64("token_type_ids"), (int)inputShape[0], (int)inputShape[1]);
            var actual = side.Run(inputs, "tenant").Values;
            var diff = expected.Zip(actual, (e, a) => Math.Abs((double)e - a)).Max();
            var moved = expected.Zip(side.Run(inputs, null).Values, (e, a) => Math.Abs((double)e - a)).Max();
            output.WriteLine($"{variant}/{nonLinearity}: max |onnx side - torchsharp| logits {diff:E2} (graph defaults = same adapter: {moved:E2})");
            Assert.True(diff <= 1e-4, $"{diff:E2}");
            Assert.Equal(SideGraphManifest.SideForm, side.Side.Form);
        }
        finally
        {
            Directory.Delete(adapterDir, recursive: true);
        }
    }
}
