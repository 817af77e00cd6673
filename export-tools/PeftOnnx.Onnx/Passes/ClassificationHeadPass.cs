using Onnx;
using PeftOnnx.Onnx.Graph;
using static PeftOnnx.Onnx.Graph.OnnxNodes;
using DataType = Onnx.TensorProto.Types.DataType;

namespace PeftOnnx.Onnx.Passes;

/// <summary>
/// Appends a classifier to an encoder graph and makes <c>logits</c> and <c>probabilities</c> its only outputs
/// (small outputs: hidden states stay inside ONNX Runtime).
/// <code>
///   pooler output (tanh(dense(h[:,0])))  ─┐
///     or mean(h · mask) / sum(mask)      ─┴─ Gemm(classifier.weight, classifier.bias, transB=1) ─ logits ─ Softmax ─ probabilities
/// </code>
/// </summary>
/// <param name="head">The classifier and its pooling.</param>
/// <param name="hiddenStates">The [batch, seq, hidden] output (last_hidden_state).</param>
/// <param name="poolerOutput">The pooler output value name, required for <see cref="HeadPooling.Pooler"/>.</param>
/// <param name="attentionMask">The attention-mask graph input, used by <see cref="HeadPooling.Mean"/>.</param>
public sealed class ClassificationHeadPass(ClassificationHead head, string hiddenStates, string? poolerOutput, string attentionMask = "attention_mask") : IGraphPass
{
    public const string LogitsOutput = "logits";
    public const string ProbabilitiesOutput = "probabilities";
    private const string Prefix = "classifier_head/";

    public string Name => "classification-head";

    public PassReport Collect(GraphRewrite rewrite)
    {
        ArgumentNullException.ThrowIfNull(rewrite);
        ArgumentNullException.ThrowIfNull(head);
        var graph = rewrite.Graph;
        var index = rewrite.Index;
        if (index.Producer(hiddenStates) is null)
            throw new InvalidDataException($"classification head: the model has no value '{hiddenStates}' to pool.");
        var hidden = HiddenSize(graph, hiddenStates);
        if (hidden is { } h && h != head.Hidden)
            throw new InvalidDataException($"shape mismatch: classifier.weight is {head.Weight.Shape} ([labels, hidden]) but the encoder's hidden size is {h}.");
        if (head.Labels.Count != head.LabelCount)
            throw new ArgumentException($"{head.Labels.Count} labels given for a classifier with {head.LabelCount} outputs.");
        if (index.Producer(LogitsOutput) is not null)
            throw new InvalidDataException($"the model already has a '{LogitsOutput}' value; it already carries a classification head.");

        string pooled;
        if (head.Pooling == HeadPooling.Pooler)
        {
            if (poolerOutput is null || index.Producer(poolerOutput) is null)
                throw new InvalidDataException("classification head: pooler pooling needs the base model's pooler output (tanh(dense(h[:,0]))), which this model does not have; use mean pooling.");
            pooled = poolerOutput;
        }
        else
        {
            pooled = MeanPooling(rewrite);
        }

        rewrite.AddInitializer(TensorData.FromFloat32("classifier.weight", ToFloat(head.Weight.Data), head.LabelCount, head.Hidden));
        rewrite.AddInitializer(TensorData.FromFloat32("classifier.bias", ToFloat(head.Bias), head.LabelCount));
        rewrite.Add(Node("Gemm", P("classifier"), "", [pooled, "classifier.weight", "classifier.bias"], [LogitsOutput], IntAttribute("transB", 1))); // [batch, labels]
        if (head.MultiLabel)
            rewrite.Add(Node("Sigmoid", P("sigmoid"), "", [LogitsOutput], [ProbabilitiesOutput]));
        else
            rewrite.Add(Node("Softmax", P("softmax"), "", [LogitsOutput], [ProbabilitiesOutput], IntAttribute("axis", 1))); // rank 2: axis 1 in every opset
        var batch = BatchDimension(graph);
        rewrite.ReplaceOutputs(ValueInfo(LogitsOutput, DataType.Float, batch, head.LabelCount), ValueInfo(ProbabilitiesOutput, DataType.Float, batch, head.LabelCount));
        return PassReport.Of(this, 1, $"{head.LabelCount} labels{(head.MultiLabel ? " (multi-label, sigmoid)" : "")}, {head.Pooling.ToString().ToLowerInvariant()} pooling");
    }

    /// <summary>sum(h · mask, seq) / max(sum(mask, seq), 1e-9): [batch, seq, hidden] -> [batch, hidden].</summary>
    private string MeanPooling(GraphRewrite rewrite)
    {
        if (!rewrite.Graph.Input.Any(i => i.Name == attentionMask))
            throw new InvalidDataException($"mean pooling needs the graph input '{attentionMask}', which the model does not have.");
        // Opset 13 moved Unsqueeze's and ReduceSum's axes from attributes to inputs.
        var axesAsInput = rewrite.Opset >= 13;

        rewrite.Add(Cast(P("mask_cast"), attentionMask, P("mask"), (int)DataType.Float)); // [batch, seq] float
        rewrite.AddInitializer(TensorData.FromInt64(P("axis_last"), [-1], 1));
        rewrite.AddInitializer(TensorData.FromInt64(P("axis_seq"), [1], 1));
        rewrite.Add(WithAxes(Node("Unsqueeze", P("mask_unsqueeze"), "", [P("mask")], [P("mask3")]), axesAsInput, P("axis_last"), -1)); // [batch, seq, 1]
        rewrite.Add(Node("Mul", P("masked"), "", [hiddenStates, P("mask3")], [P("masked")])); // [batch, seq, hidden]
        rewrite.Add(WithAxes(Node("ReduceSum", P("sum"), "", [P("masked")], [P("sum")], IntAttribute("keepdims", 0)), axesAsInput, P("axis_seq"), 1)); // [batch, hidden]
        rewrite.Add(WithAxes(Node("ReduceSum", P("count"), "", [P("mask3")], [P("count")], IntAttribute("keepdims", 0)), axesAsInput, P("axis_seq"), 1)); // [batch, 1]
        rewrite.AddInitializer(TensorData.FromFloat32(P("eps"), [1e-9f]));
        rewrite.Add(Node("Max", P("count_clamp"), "", [P("count"), P("eps")], [P("count_safe")]));
        rewrite.Add(Node("Div", P("mean"), "", [P("sum"), P("count_safe")], [P("pooled")])); // [batch, hidden]
        return P("pooled");
    }

    private static NodeProto WithAxes(NodeProto node, bool asInput, string axesInitializer, long axis)
    {
        if (asInput)
            node.Input.Add(axesInitializer);
        else
            node.Attribute.Add(IntsAttribute("axes", axis));
        return node;
    }

    private static string P(string name) => Prefix + name;

    private static int? HiddenSize(GraphProto graph, string hiddenStates)
    {
        var info = graph.Output.Concat(graph.ValueInfo).FirstOrDefault(v => v.Name == hiddenStates);
        var dims = info?.Type?.TensorType?.Shape?.Dim;
        return dims is { Count: 3 } && dims[2].HasDimValue ? (int)dims[2].DimValue : null;
    }

    /// <summary>The symbolic batch dimension of the existing outputs (keeps ORT's shape inference consistent).</summary>
    private static TensorShapeProto.Types.Dimension BatchDimension(GraphProto graph)
    {
        var first = graph.Output.Select(o => o.Type?.TensorType?.Shape?.Dim).FirstOrDefault(d => d is { Count: > 0 })?[0];
        return first ?? new TensorShapeProto.Types.Dimension { DimParam = "batch" };
    }

    private static float[] ToFloat(double[] values) => Array.ConvertAll(values, v => (float)v);
}
