using Microsoft.ML.OnnxRuntime;
using PeftOnnx.Core.SafeTensors;
using PeftOnnx.Onnx.Export;
using PeftOnnx.Runtime.Adapters;
using PeftOnnx.Runtime.Sessions;
using PeftOnnx.Tests;

namespace PeftOnnx.Onnx.Tests.Side;

/// <summary>Exports side bundles from the PEFT goldens into a temp folder and runs them (CPU, one thread).</summary>
internal static class SideBundles
{
    public static readonly SessionSettings Cpu = new() { Device = DeviceKind.Cpu, IntraOpThreads = 1 };

    public static string BaseDirectory => TestModels.EnsurePulled("minilm-l6");

    public static string Adapter(string golden) => TestPaths.Fixture("peft", golden);

    public static string ExportSide(TempFolder temp, string form, params string[] goldens) =>
        new SideBundleExporter().Export(new SideBundleOptions
        {
            BaseDirectory = BaseDirectory,
            AdapterDirectories = [.. goldens.Select(Adapter)],
            OutputDirectory = temp.Combine($"{form}-{string.Join("+", goldens)}"),
            Form = form,
        }).Directory;

    /// <summary>The golden's inputs and expected output (last_hidden_state or logits).</summary>
    public static (SideInputs Inputs, float[] Expected, string Output) Reference(string golden)
    {
        using var file = SafeTensorFile.Open(TestPaths.Fixture("peft", golden, "reference.safetensors"));
        var ids = file.ReadInt64("input_ids");
        var shape = file["input_ids"].Shape;
        var inputs = new SideInputs(ids, file.ReadInt64("attention_mask"), file.ReadInt64("token_type_ids"), (int)shape[0], (int)shape[1]);
        return file.Contains("expected_logits")
            ? (inputs, file.ReadFloat32("expected_logits"), "logits")
            : (inputs, file.ReadFloat32("expected_last_hidden_state"), "last_hidden_state");
    }

    /// <summary>Runs a plain ONNX model file (a merged bundle) on the inputs.</summary>
    public static float[] RunPlain(string modelPath, SideInputs x, string output)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(modelPath, options);
        long[] shape = [x.BatchSize, x.SequenceLength];
        using var ids = OrtValue.CreateTensorValueFromMemory(x.InputIds, shape);
        using var mask = OrtValue.CreateTensorValueFromMemory(x.AttentionMask, shape);
        using var types = OrtValue.CreateTensorValueFromMemory(x.TokenTypeIds, shape);
        using var runOptions = new RunOptions();
        using var results = session.Run(runOptions, ["input_ids", "attention_mask", "token_type_ids"], [ids, mask, types], [output]);
        return results[0].GetTensorDataAsSpan<float>().ToArray();
    }

    public static double MaxAbsDiff(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length)
            throw new ArgumentException($"lengths differ: {a.Length} vs {b.Length}.");
        double max = 0;
        for (var i = 0; i < a.Length; i++)
            max = Math.Max(max, Math.Abs((double)a[i] - b[i]));
        return max;
    }
}
