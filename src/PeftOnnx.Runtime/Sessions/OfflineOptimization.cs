using Microsoft.ML.OnnxRuntime;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.Files;

namespace PeftOnnx.Runtime.Sessions;

/// <summary>
/// Saves a model as ONNX Runtime optimizes it, so that an edge bundle (`peftonnx-export export --edge`) starts without
/// optimizing it again (<see cref="SessionSettings.ModelPreOptimized"/>). The level is ONNX Runtime's "extended"
/// (<see cref="BundleManifest.ExtendedOptimization"/>): constant folding and the fusions into com.microsoft operators
/// (for the int8 MiniLM classifier: DynamicQuantizeMatMul, FusedGemm, FusedMatMul, Gelu), which every CPU build of
/// ONNX Runtime runs, x64 and arm64 alike; "all" adds layout changes for the machine that saves the model, which ONNX
/// Runtime documents as not portable.
/// </summary>
public static class OfflineOptimization
{
    /// <summary>Replaces <paramref name="modelPath"/> with its optimized graph (through a temporary file beside it).</summary>
    public static void Apply(string modelPath)
    {
        RegularFile.Require(modelPath);
        var optimized = modelPath + ".optimized";
        try
        {
            using (var options = new SessionOptions
            {
                GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
                OptimizedModelFilePath = optimized,
                IntraOpNumThreads = 1,
                LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
            })
            using (new InferenceSession(modelPath, options))
            {
            }
            File.Move(optimized, modelPath, overwrite: true);
        }
        finally
        {
            File.Delete(optimized);
        }
    }
}
