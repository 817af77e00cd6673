using Onnx;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Onnx.Graph;
using static PeftOnnx.Onnx.Graph.OnnxNodes;
using DataType = Onnx.TensorProto.Types.DataType;

namespace PeftOnnx.Onnx.Passes;

/// <summary>
/// Makes the classifier that <see cref="ClassificationHeadPass"/> appended part of each adapter, since every
/// sequence-classification adapter trains its own. Form "side" (no <c>adapterIndex</c>): classifier.weight
/// [labels, hidden] and classifier.bias [labels] become graph inputs with their initializers as defaults (an
/// OrtLoraAdapter overrides them). Form "mixed": the Gemm is replaced by a per-row classifier gathered from stacks:
/// <code>
///   pooled (B, H) ─ Unsqueeze (B, 1, H) ─ MatMul(Transpose(Gather(W_stack [n, labels, H], adapter_index))) (B, 1, labels) ─ Squeeze ─ Add(Gather(bias_stack)) ─ logits
/// </code>
/// </summary>
public sealed class AdapterHeadPass : IGraphPass
{
    public const string WeightName = "classifier.weight";
    public const string BiasName = "classifier.bias";
    private const string Prefix = "adapter_head/";
    private readonly string? _adapterIndex;

    /// <param name="head">The classifier the head pass appended.</param>
    /// <param name="adapterIndex">The mixed form's per-row adapter input; null for the side form.</param>
    public AdapterHeadPass(ClassificationHead head, string? adapterIndex)
    {
        ArgumentNullException.ThrowIfNull(head);
        _adapterIndex = adapterIndex;
        var suffix = adapterIndex is null ? "" : SideAdapterCheck.StackSuffix;
        Slots = [new SideParameterSlot(WeightName, WeightName + suffix, [head.LabelCount, head.Hidden]), new SideParameterSlot(BiasName, BiasName + suffix, [head.LabelCount])];
    }

    public string Name => "adapter-head";

    /// <summary>The classifier inputs every adapter feeds.</summary>
    public IReadOnlyList<SideParameterSlot> Slots { get; }

    public PassReport Collect(GraphRewrite rewrite)
    {
        ArgumentNullException.ThrowIfNull(rewrite);
        var index = rewrite.Index;
        var weight = Classifier(index, WeightName, Slots[0].Shape);
        var bias = Classifier(index, BiasName, Slots[1].Shape);
        if (_adapterIndex is null)
        {
            rewrite.AddInput(ValueInfo(WeightName, DataType.Float, [.. weight.Dims.Select(d => (object)d)]));
            rewrite.AddInput(ValueInfo(BiasName, DataType.Float, [.. bias.Dims.Select(d => (object)d)]));
            return PassReport.Of(this, 1, "the classifier is an adapter input");
        }
        var gemm = index.Producer(ClassificationHeadPass.LogitsOutput) is { OpType: "Gemm" } g
            ? g
            : throw new InvalidDataException($"the model has no classifier Gemm producing '{ClassificationHeadPass.LogitsOutput}'.");
        var (labels, hidden) = (weight.Dims[0], weight.Dims[1]);
        var nodes = new PrefixedNodes(rewrite, Prefix);
        var axis1 = nodes.Int64s("axis1", 1);
        var w = nodes.OverridableInput(TensorData.FromFloat32(Slots[0].Input, TensorData.ToFloat32(weight), 1, labels, hidden), "adapters", labels, hidden);
        var b = nodes.OverridableInput(TensorData.FromFloat32(Slots[1].Input, TensorData.ToFloat32(bias), 1, labels), "adapters", labels);
        var rowW = nodes.Node("Gather", "gather_W", [w, _adapterIndex], IntAttribute("axis", 0)); // (B, labels, H)
        var rowWt = nodes.Node("Transpose", "W_t", [rowW], IntsAttribute("perm", 0, 2, 1));      // (B, H, labels)
        var rowB = nodes.Node("Gather", "gather_b", [b, _adapterIndex], IntAttribute("axis", 0)); // (B, labels)
        var x = nodes.Node("Unsqueeze", "x3", [gemm.Input[0], axis1]);                           // (B, 1, H)
        var y = nodes.Node("MatMul", "matmul", [x, rowWt]);                                       // (B, 1, labels)
        var y2 = nodes.Node("Squeeze", "y2", [y, axis1]);                                         // (B, labels)
        nodes.NodeTo("Add", "logits", [y2, rowB], ClassificationHeadPass.LogitsOutput);
        rewrite.Remove(gemm);
        rewrite.RemoveInitializer(WeightName);
        rewrite.RemoveInitializer(BiasName);
        return PassReport.Of(this, 1, "the classifier is gathered per row from stacked adapter inputs");
    }

    private static TensorProto Classifier(GraphIndex index, string name, long[] shape)
    {
        var tensor = index.Initializer(name) ?? throw new InvalidDataException($"the model has no initializer {name}; run the classification head pass first.");
        if (!tensor.Dims.SequenceEqual(shape))
            throw new InvalidDataException($"{name} is [{string.Join(", ", tensor.Dims)}], the head says [{string.Join(", ", shape)}].");
        return tensor;
    }
}
