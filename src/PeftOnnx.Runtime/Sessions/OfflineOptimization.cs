using Microsoft.ML.OnnxRuntime;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.Files;

namespace PeftOnnx.Runtime.Sessions;

/// <summary>
/// Saves a model as ONNX Runtime optimizes it, in ONNX Runtime's own format, so that an edge bundle
/// (`peftonnx-export export --edge`) starts without optimizing it again (<see cref="SessionSettings.ModelPreOptimized"/>)
/// and without parsing it: an ORT-format file is flatbuffers, which the session reads in place from memory. The level is
/// ONNX Runtime's "extended" (<see cref="BundleManifest.ExtendedOptimization"/>): constant folding and the fusions into
/// com.microsoft operators (for the int8 MiniLM classifier: DynamicQuantizeMatMul, FusedGemm, FusedMatMul, Gelu), which
/// every CPU build of ONNX Runtime runs, x64 and arm64 alike; "all" adds layout changes for the machine that saves the
/// model, which ONNX Runtime documents as not portable.
/// </summary>
public static class OfflineOptimization
{
    /// <summary>Writes <paramref name="onnxPath"/>, optimized, to <paramref name="ortPath"/> (through a temporary file beside it).</summary>
    public static void SaveOrtFormat(string onnxPath, string ortPath)
    {
        RegularFile.Require(onnxPath);
        _ = OrtEnvironment.Instance; // telemetry off before any ONNX Runtime object
        var optimized = ortPath + ".tmp";
        try
        {
            using (var options = new SessionOptions
            {
                GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
                OptimizedModelFilePath = optimized,
                IntraOpNumThreads = 1,
                LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
            })
            {
                options.AddSessionConfigEntry("session.save_model_format", "ORT");
                using (new InferenceSession(onnxPath, options))
                {
                }
            }
            File.Move(optimized, ortPath, overwrite: true);
        }
        finally
        {
            File.Delete(optimized);
        }
    }
}
