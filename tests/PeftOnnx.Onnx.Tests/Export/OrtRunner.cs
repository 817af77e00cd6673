using Microsoft.ML.OnnxRuntime;

namespace PeftOnnx.Onnx.Tests.Export;

/// <summary>Runs a model with ONNX Runtime (CPU) on a golden's inputs and returns the named outputs.</summary>
internal static class OrtRunner
{
    public static Dictionary<string, float[]> Run(string modelPath, GoldenReference inputs, params string[] outputs)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 2, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        using var session = new InferenceSession(modelPath, options);
        return Run(session, inputs, outputs);
    }

    public static Dictionary<string, float[]> Run(byte[] model, GoldenReference inputs, params string[] outputs)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 2, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        using var session = new InferenceSession(model, options);
        return Run(session, inputs, outputs);
    }

    private static Dictionary<string, float[]> Run(InferenceSession session, GoldenReference inputs, string[] outputs)
    {
        var shape = inputs.InputShape;
        var feeds = new Dictionary<string, long[]>
        {
            ["input_ids"] = inputs.InputIds,
            ["attention_mask"] = inputs.AttentionMask,
            ["token_type_ids"] = inputs.TokenTypeIds,
        };
        var names = session.InputMetadata.Keys.ToList();
        var values = names.Select(n => OrtValue.CreateTensorValueFromMemory(feeds[n], shape)).ToList();
        try
        {
            using var runOptions = new RunOptions();
            using var results = session.Run(runOptions, names, values, outputs);
            return outputs.Zip(results).ToDictionary(p => p.First, p => p.Second.GetTensorDataAsSpan<float>().ToArray());
        }
        finally
        {
            values.ForEach(v => v.Dispose());
        }
    }
}
