using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Adapters.Bottleneck;
using PeftOnnx.Core.SafeTensors;
using PeftOnnx.Onnx.Export;
using PeftOnnx.Runtime.Sessions;
using PeftOnnx.Tests;
using PeftOnnx.Training.Encoder;
using PeftOnnx.Training.Methods;
using PeftOnnx.Training.Methods.Bottleneck;
using PeftOnnx.Training.Output;
using PeftOnnx.Training.TrainingLoop;
using TorchSharp;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Tests;

/// <summary>
/// Seeded random adapter folders for the parity tests of the methods built on frozen bottleneck adapters (fusion,
/// stack): written as the trainer writes them, exported as side bundles, compared by max |Δ|.
/// </summary>
internal static class FrozenAdapterFiles
{
    public const string BaseName = "sentence-transformers/all-MiniLM-L6-v2";

    public static SessionSettings Cpu => new() { Device = DeviceKind.Cpu, IntraOpThreads = 1 };

    /// <summary>A bottleneck adapter with seeded random weights (up-projections included), written as the trainer writes it.</summary>
    public static string WriteBottleneck(MiniLmFixture miniLm, string directory, string variant, string nonLinearity, int reduction, int seed, string baseName = BaseName)
    {
        using var model = miniLm.Base.CreateClassifier(12, Pooling.Pooler);
        var method = new BottleneckMethod(new BottleneckConfig { Variant = variant, NonLinearity = nonLinearity, ReductionFactor = reduction });
        method.Apply(model);
        Randomise(model, seed);
        Write(directory, model, method, baseName);
        return directory;
    }

    /// <summary>
    /// Every trainable parameter set to seeded N(0, 0.05²) values; a fusion's value matrices around the identity, as
    /// they start.
    /// </summary>
    public static void Randomise(BertForSequenceClassification model, int seed)
    {
        torch.manual_seed(seed);
        using var _ = no_grad();
        foreach (var (name, p) in model.named_parameters().Where(p => p.parameter.requires_grad))
            p.copy_(torch.randn(p.shape) * 0.05f + (name.EndsWith("value.weight", StringComparison.Ordinal) ? torch.eye(p.shape[0]) : torch.zeros(p.shape)));
    }

    /// <summary>The trainable parameters as the method's adapter folder (config and safetensors).</summary>
    public static void Write(string directory, BertForSequenceClassification model, PeftMethod method, string baseName)
    {
        var tensors = model.named_parameters()
            .Where(p => p.parameter.requires_grad)
            .Select(p => SafeTensor.FromFloat32(method.AdapterKey(p.name), TrainerCheckpoint.ToArray(p.parameter), p.parameter.shape))
            .ToList();
        PeftAdapterWriter.Write(directory, method.AdapterConfig(model.Bert.Config)! with { BaseModelNameOrPath = baseName }, tensors);
    }

    /// <summary>A side bundle of minilm-l6 with <paramref name="adapter"/>; returns its folder.</summary>
    public static string ExportSide(string adapter, string output) => new SideBundleExporter().Export(new SideBundleOptions
    {
        BaseDirectory = TestModels.EnsurePulled("minilm-l6"),
        AdapterDirectories = [adapter],
        OutputDirectory = output,
    }).Directory;

    public static double MaxDiff(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        return expected.Zip(actual, (e, a) => Math.Abs((double)e - a)).Max();
    }
}
