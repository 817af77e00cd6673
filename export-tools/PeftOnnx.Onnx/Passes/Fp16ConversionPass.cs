using PeftOnnx.Onnx.Graph;
using PeftOnnx.Onnx.Passes.Patterns;

namespace PeftOnnx.Onnx.Passes;

/// <summary>
/// Converts a float32 model to float16 weights and compute, for GPUs and edge devices. Graph inputs and outputs stay
/// float32 (Cast nodes at the boundary), so callers do not change. Ops that are numerically unsafe in fp16 stay float32,
/// as ORT's float16 converter keeps its block list: Softmax, LayerNormalization and the statistics of a decomposed
/// LayerNorm (see <see cref="DecomposedLayerNorm"/>); Cast nodes are inserted where the precision changes.
/// <code>
///   x ─ MatMul(W) ─ Add(b) ─ Softmax ─ MatMul ─ y        becomes
///   x ─ Cast(fp16) ─ MatMul(W fp16) ─ Add(b fp16) ─ Cast(fp32) ─ Softmax ─ Cast(fp16) ─ MatMul ─ Cast(fp32) ─ y
/// </code>
/// </summary>
public sealed class Fp16ConversionPass : IGraphPass
{
    public static IReadOnlySet<string> DefaultKeepFp32Ops { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "Softmax", "LogSoftmax", "LayerNormalization", "SkipLayerNormalization", "SimplifiedLayerNormalization",
        // Index- or range-like ops whose float inputs must stay exact (ORT's converter blocks these too).
        "Range", "CumSum", "TopK", "Resize", "Upsample", "NonMaxSuppression", "RoiAlign", "RandomUniformLike",
    };

    /// <summary>Op types computed in float32.</summary>
    public IReadOnlySet<string> KeepFp32Ops { get; init; } = DefaultKeepFp32Ops;

    /// <summary>Keep the mean/variance nodes of torch's decomposed LayerNorm in float32 (on by default).</summary>
    public bool KeepDecomposedLayerNormFp32 { get; init; } = true;

    public string Name => "fp16";

    public PassReport Collect(GraphRewrite rewrite)
    {
        ArgumentNullException.ThrowIfNull(rewrite);
        var (converted, summary) = Fp16Plan.Collect(rewrite, KeepFp32Ops, KeepDecomposedLayerNormFp32);
        return PassReport.Of(this, converted, summary);
    }
}
