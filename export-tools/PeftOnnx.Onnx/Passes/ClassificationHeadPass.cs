using Onnx;
using PeftOnnx.Onnx.Graph;
using AttributeType = Onnx.AttributeProto.Types.AttributeType;

namespace PeftOnnx.Onnx.Passes;

/// <summary>
/// Appends a classifier to an encoder graph and makes <c>logits</c> and <c>probabilities</c> its only outputs
/// (small outputs: hidden states stay inside ONNX Runtime).
/// <code>
///   pooler output (tanh(dense(h[:,0])))  ─┐
///     or mean(h · mask) / sum(mask)      ─┴─ Gemm(classifier.weight, classifier.bias, transB=1) ─ logits ─ Softmax ─ probabilities
/// </code>
/// </summary>
public sealed class ClassificationHeadPass(ClassificationHead head)
{
    public const string LogitsOutput = "logits";
    public const string ProbabilitiesOutput = "probabilities";
    private const string Prefix = "classifier_head/";

    /// <param name="model">The encoder graph; changed in place.</param>
    /// <param name="hiddenStates">The [batch, seq, hidden] output (last_hidden_state).</param>
    /// <param name="poolerOutput">The pooler output value name, required for <see cref="HeadPooling.Pooler"/>.</param>
    /// <param name="attentionMask">The attention-mask graph input, used by <see cref="HeadPooling.Mean"/>.</param>
    public void Apply(ModelProto model, string hiddenStates, string? poolerOutput, string attentionMask = "attention_mask")
    {
        ArgumentNullException.ThrowIfNull(model);
        var graph = model.Graph;
        var index = new GraphIndex(graph);
        if (index.Producer(hiddenStates) is null)
            throw new InvalidDataException($"classification head: the model has no value '{hiddenStates}' to pool.");
        var hidden = HiddenSize(graph, hiddenStates);
        if (hidden is { } h && h != head.Hidden)
            throw new InvalidDataException($"shape mismatch: classifier.weight is {head.Weight.Shape} ([labels, hidden]) but the encoder's hidden size is {h}.");
        if (head.Labels.Count != head.LabelCount)
            throw new ArgumentException($"{head.Labels.Count} labels given for a classifier with {head.LabelCount} outputs.", nameof(model));
        if (graph.Node.Any(n => n.Output.Contains(LogitsOutput)))
            throw new InvalidDataException($"the model already has a '{LogitsOutput}' value; it already carries a classification head.");

        var nodes = new List<NodeProto>();
        var initializers = new List<TensorProto>();
        string pooled;
        if (head.Pooling == HeadPooling.Pooler)
        {
            if (poolerOutput is null || index.Producer(poolerOutput) is null)
                throw new InvalidDataException("classification head: pooler pooling needs the base model's pooler output (tanh(dense(h[:,0]))), which this model does not have; use mean pooling.");
            pooled = poolerOutput;
        }
        else
        {
            pooled = AppendMeanPooling(model, hiddenStates, attentionMask, nodes, initializers);
        }

        initializers.Add(TensorData.FromFloat32("classifier.weight", ToFloat(head.Weight.Data), head.LabelCount, head.Hidden));
        initializers.Add(TensorData.FromFloat32("classifier.bias", ToFloat(head.Bias), head.LabelCount));
        var gemm = Node("Gemm", "classifier", [pooled, "classifier.weight", "classifier.bias"], LogitsOutput); // [batch, labels]
        gemm.Attribute.Add(new AttributeProto { Name = "transB", Type = AttributeType.Int, I = 1 });
        nodes.Add(gemm);
        var softmax = Node("Softmax", "softmax", [LogitsOutput], ProbabilitiesOutput);
        softmax.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeType.Int, I = 1 }); // rank 2: axis 1 in every opset
        nodes.Add(softmax);

        graph.Node.AddRange(nodes);
        graph.Initializer.AddRange(initializers);
        var batch = BatchDimension(graph);
        graph.Output.Clear();
        graph.Output.Add(FloatOutput(LogitsOutput, batch, head.LabelCount));
        graph.Output.Add(FloatOutput(ProbabilitiesOutput, batch, head.LabelCount));
    }

    /// <summary>sum(h · mask, seq) / max(sum(mask, seq), 1e-9): [batch, seq, hidden] -> [batch, hidden].</summary>
    private static string AppendMeanPooling(ModelProto model, string hiddenStates, string attentionMask, List<NodeProto> nodes, List<TensorProto> initializers)
    {
        if (!model.Graph.Input.Any(i => i.Name == attentionMask))
            throw new InvalidDataException($"mean pooling needs the graph input '{attentionMask}', which the model does not have.");
        var opset = model.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).DefaultIfEmpty(1).Max();
        // Opset 13 moved Unsqueeze's and ReduceSum's axes from attributes to inputs.
        var axesAsInput = opset >= 13;

        var mask = Node("Cast", "mask_cast", [attentionMask], P("mask")); // [batch, seq] float
        mask.Attribute.Add(new AttributeProto { Name = "to", Type = AttributeType.Int, I = (int)TensorProto.Types.DataType.Float });
        nodes.Add(mask);
        initializers.Add(TensorData.FromInt64(P("axis_last"), [-1], 1));
        initializers.Add(TensorData.FromInt64(P("axis_seq"), [1], 1));
        nodes.Add(WithAxes(Node("Unsqueeze", "mask_unsqueeze", [P("mask")], P("mask3")), axesAsInput, P("axis_last"), -1)); // [batch, seq, 1]
        nodes.Add(Node("Mul", "masked", [hiddenStates, P("mask3")], P("masked"))); // [batch, seq, hidden]
        var sum = WithAxes(Node("ReduceSum", "sum", [P("masked")], P("sum")), axesAsInput, P("axis_seq"), 1); // [batch, hidden]
        sum.Attribute.Add(new AttributeProto { Name = "keepdims", Type = AttributeType.Int, I = 0 });
        nodes.Add(sum);
        var count = WithAxes(Node("ReduceSum", "count", [P("mask3")], P("count")), axesAsInput, P("axis_seq"), 1); // [batch, 1]
        count.Attribute.Add(new AttributeProto { Name = "keepdims", Type = AttributeType.Int, I = 0 });
        nodes.Add(count);
        initializers.Add(TensorData.FromFloat32(P("eps"), [1e-9f]));
        nodes.Add(Node("Max", "count_clamp", [P("count"), P("eps")], P("count_safe")));
        nodes.Add(Node("Div", "mean", [P("sum"), P("count_safe")], P("pooled"))); // [batch, hidden]
        return P("pooled");
    }

    private static NodeProto WithAxes(NodeProto node, bool asInput, string axesInitializer, long axis)
    {
        if (asInput)
            node.Input.Add(axesInitializer);
        else
            node.Attribute.Add(new AttributeProto { Name = "axes", Type = AttributeType.Ints, Ints = { axis } });
        return node;
    }

    private static NodeProto Node(string op, string name, string[] inputs, string output)
    {
        var node = new NodeProto { OpType = op, Name = P(name) };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
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
        return first?.Clone() ?? new TensorShapeProto.Types.Dimension { DimParam = "batch" };
    }

    private static ValueInfoProto FloatOutput(string name, TensorShapeProto.Types.Dimension batch, int labels)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(batch.Clone());
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = labels });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    private static float[] ToFloat(double[] values) => Array.ConvertAll(values, v => (float)v);
}
