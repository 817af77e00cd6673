using Onnx;
using PeftOnnx.Onnx.Graph;
using PeftOnnx.Onnx.Passes.Patterns;
using DataType = Onnx.TensorProto.Types.DataType;

namespace PeftOnnx.Onnx.Passes;

/// <summary>
/// The changes <see cref="Fp16ConversionPass"/> makes, decided on the unchanged graph and applied together.
/// Every float value gets a precision from its producer (kept ops: fp32, others: fp16, graph inputs: fp32); every node
/// input is then served in the precision its node computes in: constants by a converted copy, other values by a Cast.
/// </summary>
internal sealed class Fp16Plan
{
    private const int Float = (int)DataType.Float;
    private const int Half = (int)DataType.Float16;

    private readonly List<(TensorProto Old, TensorProto New)> _replacedInitializers = [];
    private readonly List<TensorProto> _newInitializers = [];
    private readonly List<(NodeProto Node, int Input, string Value)> _inputRewires = [];
    private readonly List<(NodeProto Node, int Output, string Value)> _outputRenames = [];
    private readonly List<(NodeProto Node, AttributeProto Attribute)> _attributeChanges = [];
    private readonly List<NodeProto> _casts = [];
    private readonly List<(ValueInfoProto Info, string Name, int Type)> _valueInfoChanges = [];

    private Fp16Plan()
    {
    }

    public string Summary { get; private set; } = "";

    public static Fp16Plan Create(GraphProto graph, IReadOnlySet<string> keepOps, bool keepLayerNorm)
    {
        var index = new GraphIndex(graph);
        var types = ElementTypeInference.Infer(graph);
        var names = new UniqueNames(graph);
        var plan = new Fp16Plan();

        var kept = new HashSet<NodeProto>(graph.Node.Where(n => keepOps.Contains(n.OpType)), ReferenceEqualityComparer.Instance);
        var layerNorms = keepLayerNorm ? DecomposedLayerNorm.FindAll(index) : [];
        foreach (var match in layerNorms)
            kept.UnionWith(match);

        bool IsFloat(string value) => value.Length > 0 && types.TryGetValue(value, out var type) && type == Float;
        bool IsConstant(string value) => index.IsConstant(value);
        int Precision(NodeProto node) => kept.Contains(node) ? Float : Half;

        // Precision of every computed float value; graph inputs stay float32.
        var precision = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var input in graph.Input.Where(i => IsFloat(i.Name)))
            precision[input.Name] = Float;
        foreach (var node in graph.Node.Where(n => n.OpType != "Constant"))
        {
            foreach (var output in node.Output.Where(IsFloat))
                precision[output] = Precision(node);
        }

        // A graph output computed in fp16 is written under <name>_fp16 and cast back to float32 under its own name.
        var renamed = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var output in graph.Output.Where(o => precision.GetValueOrDefault(o.Name) == Half))
        {
            var producer = index.Producer(output.Name)!;
            var inner = names.Make(output.Name + "_fp16");
            renamed[output.Name] = inner;
            precision[inner] = Half;
            plan._outputRenames.Add((producer, producer.Output.IndexOf(output.Name), inner));
            plan._casts.Add(Cast(inner, output.Name, Float, names.Make(output.Name + "_to_fp32")));
        }

        // Constants: convert in place when only fp16 nodes read them, add an fp16 copy when fp32 nodes read them too.
        var needs = new Dictionary<string, (bool Half, bool Float)>(StringComparer.Ordinal);
        foreach (var node in graph.Node.Where(n => n.OpType != "Constant" && !ReadsAnyType(n)))
        {
            foreach (var input in node.Input.Where(i => IsFloat(i) && IsConstant(i)))
            {
                var (half, single) = needs.GetValueOrDefault(input);
                needs[input] = Precision(node) == Half ? (true, single) : (half, true);
            }
        }
        foreach (var output in graph.Output.Where(o => needs.ContainsKey(o.Name)))
            needs[output.Name] = (needs[output.Name].Half, true);
        var halfConstant = new Dictionary<string, string>(StringComparer.Ordinal);
        var converted = 0L;
        foreach (var (constant, need) in needs.Where(n => n.Value.Half))
        {
            var tensor = index.Initializer(constant) ?? ConstantTensor(index.Producer(constant)!);
            converted += tensor.RawData.Length + tensor.FloatData.Count * 4;
            if (need.Float)
            {
                halfConstant[constant] = names.Make(constant + "_fp16");
                plan._newInitializers.Add(Float16Values.Convert(tensor, halfConstant[constant]));
                continue;
            }
            halfConstant[constant] = constant;
            if (index.Initializer(constant) is { } initializer)
                plan._replacedInitializers.Add((initializer, Float16Values.Convert(initializer, constant)));
            else
                plan._attributeChanges.Add((index.Producer(constant)!, TensorAttribute("value", Float16Values.Convert(tensor, ""))));
        }

        // Serve every float input in its node's precision.
        var casts = new Dictionary<(string, int), string>();
        string CastTo(string value, int to)
        {
            if (!casts.TryGetValue((value, to), out var name))
            {
                name = names.Make(value + (to == Half ? "_fp16" : "_fp32"));
                casts[(value, to)] = name;
                plan._casts.Add(Cast(value, name, to, names.Make(name + "_cast")));
            }
            return name;
        }
        foreach (var node in graph.Node.Where(n => n.OpType != "Constant"))
        {
            var need = Precision(node);
            for (var i = 0; i < node.Input.Count; i++)
            {
                var input = node.Input[i];
                var current = renamed.GetValueOrDefault(input, input);
                string source;
                if (ReadsAnyType(node) || !IsFloat(input))
                    source = current;
                else if (IsConstant(input))
                    source = need == Half ? halfConstant[input] : input;
                else
                    source = precision[current] == need ? current : CastTo(current, need);
                if (source != input)
                    plan._inputRewires.Add((node, i, source));
            }
        }

        // Ops that create float tensors from attributes produce fp16 when they are not kept.
        foreach (var node in graph.Node.Where(n => !kept.Contains(n)))
        {
            if (node.OpType == "Cast" && ElementTypeInference.Attribute(node, "to")!.I == Float)
                plan._attributeChanges.Add((node, new AttributeProto { Name = "to", Type = AttributeProto.Types.AttributeType.Int, I = Half }));
            if (node.OpType == "ConstantOfShape" && IsFloat(node.Output[0]))
            {
                var value = ElementTypeInference.Attribute(node, "value")?.T ?? TensorData.FromFloat32("", [0f], 1);
                plan._attributeChanges.Add((node, TensorAttribute("value", Float16Values.Convert(value, value.Name))));
            }
        }

        foreach (var info in graph.ValueInfo.Where(v => IsFloat(v.Name) && v.Type?.TensorType is not null))
        {
            var name = renamed.GetValueOrDefault(info.Name, info.Name);
            var type = precision.TryGetValue(name, out var p) ? p : halfConstant.GetValueOrDefault(info.Name) == info.Name ? Half : Float;
            plan._valueInfoChanges.Add((info, name, type));
        }

        plan.Summary = $"fp16: {needs.Count(n => n.Value.Half)} float constants converted ({converted / 2:N0} bytes saved), " +
            $"{kept.Count} nodes kept in fp32 ({layerNorms.Count} decomposed LayerNorms, {kept.Count(n => keepOps.Contains(n.OpType))} by op type), " +
            $"{plan._casts.Count} Cast nodes inserted";
        return plan;
    }

    public void ApplyTo(GraphProto graph)
    {
        foreach (var (old, replacement) in _replacedInitializers)
            graph.Initializer[graph.Initializer.IndexOf(old)] = replacement;
        graph.Initializer.AddRange(_newInitializers);
        foreach (var (node, input, value) in _inputRewires)
            node.Input[input] = value;
        foreach (var (node, output, value) in _outputRenames)
            node.Output[output] = value;
        foreach (var (node, attribute) in _attributeChanges)
        {
            // A Constant's value may be spelled value_float(s); it is replaced by one "value" tensor.
            var replaces = node.OpType == "Constant" ? (Func<AttributeProto, bool>)(a => a.Name.StartsWith("value", StringComparison.Ordinal)) : a => a.Name == attribute.Name;
            foreach (var old in node.Attribute.Where(replaces).ToList())
                node.Attribute.Remove(old);
            node.Attribute.Add(attribute);
        }
        graph.Node.AddRange(_casts);
        foreach (var (info, name, type) in _valueInfoChanges)
        {
            info.Name = name;
            info.Type.TensorType.ElemType = type;
        }
    }

    /// <summary>Shape and Size read only the shape and Cast accepts any type: their inputs need no precision change.</summary>
    private static bool ReadsAnyType(NodeProto node) => node.OpType is "Shape" or "Size" or "Cast";

    private static NodeProto Cast(string input, string output, int to, string name) => new()
    {
        OpType = "Cast",
        Name = name,
        Input = { input },
        Output = { output },
        Attribute = { new AttributeProto { Name = "to", Type = AttributeProto.Types.AttributeType.Int, I = to } },
    };

    private static AttributeProto TensorAttribute(string name, TensorProto value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Tensor, T = value };

    private static TensorProto ConstantTensor(NodeProto constant)
    {
        foreach (var attribute in constant.Attribute)
        {
            switch (attribute.Name)
            {
                case "value": return attribute.T;
                case "value_float": return TensorData.FromFloat32("", [attribute.F]);
                case "value_floats": return TensorData.FromFloat32("", [.. attribute.Floats], attribute.Floats.Count);
            }
        }
        throw new InvalidDataException($"fp16: {GraphIndex.Describe(constant)} has no float value attribute.");
    }
}
