using Onnx;
using PeftOnnx.Onnx.Graph;
using PeftOnnx.Onnx.Passes.Patterns;
using static PeftOnnx.Onnx.Graph.OnnxNodes;
using DataType = Onnx.TensorProto.Types.DataType;

namespace PeftOnnx.Onnx.Passes;

/// <summary>
/// The edits <see cref="Fp16ConversionPass"/> makes, decided on the unchanged graph and collected in one rewrite.
/// Every float value gets a precision from its producer (kept ops: fp32, others: fp16, graph inputs: fp32); every node
/// input is then served in the precision its node computes in: constants by a converted copy, other values by a Cast.
/// </summary>
internal sealed class Fp16Plan
{
    private const int Float = (int)DataType.Float;
    private const int Half = (int)DataType.Float16;

    private readonly GraphRewrite _rewrite;
    private readonly GraphIndex _index;
    private readonly Dictionary<string, int> _types;
    private readonly HashSet<NodeProto> _kept;
    /// <summary>Precision of every computed float value (and graph input).</summary>
    private readonly Dictionary<string, int> _precision = new(StringComparer.Ordinal);
    /// <summary>Graph outputs computed in fp16: the name the producer now writes.</summary>
    private readonly Dictionary<string, string> _renamed = new(StringComparer.Ordinal);
    /// <summary>Float constants read in fp16: the name of their fp16 version (their own name when converted in place).</summary>
    private readonly Dictionary<string, string> _halfConstant = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Value, int To), string> _castOutputs = [];
    private int _casts;

    private Fp16Plan(GraphRewrite rewrite, IReadOnlySet<string> keepOps, IReadOnlyList<IReadOnlyList<NodeProto>> layerNorms)
    {
        _rewrite = rewrite;
        _index = rewrite.Index;
        _types = ElementTypeInference.Infer(rewrite.Graph);
        _kept = new HashSet<NodeProto>(rewrite.Graph.Node.Where(n => keepOps.Contains(n.OpType)), ReferenceEqualityComparer.Instance);
        foreach (var match in layerNorms)
            _kept.UnionWith(match);
    }

    /// <summary>Collects the conversion into <paramref name="rewrite"/>; returns how many constants it converts and a summary.</summary>
    public static (int Converted, string Summary) Collect(GraphRewrite rewrite, IReadOnlySet<string> keepOps, bool keepLayerNorm)
    {
        var layerNorms = keepLayerNorm ? DecomposedLayerNorm.FindAll(rewrite.Index) : [];
        var plan = new Fp16Plan(rewrite, keepOps, layerNorms);
        plan.AssignPrecisions();
        plan.CastGraphOutputs();
        var (converted, bytes) = plan.ConvertConstants();
        plan.ServeInputs();
        plan.RetypeAttributes();
        plan.RetypeValueInfos();
        return (converted, $"{converted} float constants converted ({bytes / 2:N0} bytes saved), " +
            $"{plan._kept.Count} nodes kept in fp32 ({layerNorms.Count} decomposed LayerNorms, {plan._kept.Count(n => keepOps.Contains(n.OpType))} by op type), " +
            $"{plan._casts} Cast nodes inserted");
    }

    private bool IsFloat(string value) => value.Length > 0 && _types.TryGetValue(value, out var type) && type == Float;

    private int Precision(NodeProto node) => _kept.Contains(node) ? Float : Half;

    private IEnumerable<NodeProto> Computing => _rewrite.Graph.Node.Where(n => n.OpType != "Constant");

    /// <summary>Graph inputs stay float32; a computed value has its producer's precision.</summary>
    private void AssignPrecisions()
    {
        foreach (var input in _rewrite.Graph.Input.Where(i => IsFloat(i.Name)))
            _precision[input.Name] = Float;
        foreach (var node in Computing)
        {
            foreach (var output in node.Output.Where(IsFloat))
                _precision[output] = Precision(node);
        }
    }

    /// <summary>A graph output computed in fp16 is written under &lt;name&gt;_fp16 and cast back to float32 under its own name.</summary>
    private void CastGraphOutputs()
    {
        var names = _rewrite.Names;
        foreach (var output in _rewrite.Graph.Output.Where(o => _precision.GetValueOrDefault(o.Name) == Half))
        {
            var producer = _index.Producer(output.Name)!;
            var inner = names.Make(output.Name + "_fp16");
            _renamed[output.Name] = inner;
            _precision[inner] = Half;
            var edited = _rewrite.Edit(producer);
            edited.Output[producer.Output.IndexOf(output.Name)] = inner;
            AddCast(inner, output.Name, Float, names.Make(output.Name + "_to_fp32"));
        }
    }

    /// <summary>
    /// Constants read by fp16 nodes: converted in place when only fp16 nodes read them, an fp16 copy added when fp32
    /// nodes (or the graph outputs) read them too. Returns how many and their float32 bytes.
    /// </summary>
    private (int Count, long Bytes) ConvertConstants()
    {
        var needs = new Dictionary<string, (bool Half, bool Float)>(StringComparer.Ordinal);
        foreach (var node in Computing.Where(n => !ReadsAnyType(n)))
        {
            foreach (var input in node.Input.Where(i => IsFloat(i) && _index.IsConstant(i)))
            {
                var (half, single) = needs.GetValueOrDefault(input);
                needs[input] = Precision(node) == Half ? (true, single) : (half, true);
            }
        }
        foreach (var output in _rewrite.Graph.Output.Where(o => needs.ContainsKey(o.Name)))
            needs[output.Name] = (needs[output.Name].Half, true);
        var bytes = 0L;
        foreach (var (constant, need) in needs.Where(n => n.Value.Half))
        {
            var tensor = _index.Initializer(constant) ?? ConstantTensor(_index.Producer(constant)!);
            bytes += tensor.RawData.Length + tensor.FloatData.Count * 4;
            if (need.Float)
            {
                _halfConstant[constant] = _rewrite.Names.Make(constant + "_fp16");
                _rewrite.AddInitializer(Float16Values.Convert(tensor, _halfConstant[constant]));
                continue;
            }
            _halfConstant[constant] = constant;
            if (_index.Initializer(constant) is { } initializer)
                _rewrite.ReplaceInitializer(Float16Values.Convert(initializer, constant));
            else
                SetAttribute(_index.Producer(constant)!, TensorAttribute("value", Float16Values.Convert(tensor, "")));
        }
        return (needs.Count(n => n.Value.Half), bytes);
    }

    /// <summary>Every float input in its node's precision: the fp16 constant, the value itself, or a Cast of it.</summary>
    private void ServeInputs()
    {
        foreach (var node in Computing)
        {
            var need = Precision(node);
            for (var i = 0; i < node.Input.Count; i++)
            {
                var input = node.Input[i];
                var current = _renamed.GetValueOrDefault(input, input);
                string source;
                if (ReadsAnyType(node) || !IsFloat(input))
                    source = current;
                else if (_index.IsConstant(input))
                    source = need == Half ? _halfConstant[input] : input;
                else
                    source = _precision[current] == need ? current : CastTo(current, need);
                if (source != input)
                    _rewrite.Edit(node).Input[i] = source;
            }
        }
    }

    /// <summary>Ops that create float tensors from attributes produce fp16 when they are not kept.</summary>
    private void RetypeAttributes()
    {
        foreach (var node in _rewrite.Graph.Node.Where(n => !_kept.Contains(n)))
        {
            if (node.OpType == "Cast" && ElementTypeInference.Attribute(node, "to")!.I == Float)
                SetAttribute(node, IntAttribute("to", Half));
            if (node.OpType == "ConstantOfShape" && IsFloat(node.Output[0]))
            {
                var value = ElementTypeInference.Attribute(node, "value")?.T ?? TensorData.FromFloat32("", [0f], 1);
                SetAttribute(node, TensorAttribute("value", Float16Values.Convert(value, value.Name)));
            }
        }
    }

    private void RetypeValueInfos()
    {
        foreach (var info in _rewrite.Graph.ValueInfo.Where(v => IsFloat(v.Name) && v.Type?.TensorType is not null))
        {
            var name = _renamed.GetValueOrDefault(info.Name, info.Name);
            var type = _precision.TryGetValue(name, out var p) ? p : _halfConstant.GetValueOrDefault(info.Name) == info.Name ? Half : Float;
            var retyped = info.Clone();
            retyped.Name = name;
            retyped.Type.TensorType.ElemType = type;
            _rewrite.ReplaceValueInfo(info, retyped);
        }
    }

    private string CastTo(string value, int to)
    {
        if (!_castOutputs.TryGetValue((value, to), out var name))
        {
            name = _rewrite.Names.Make(value + (to == Half ? "_fp16" : "_fp32"));
            _castOutputs[(value, to)] = name;
            AddCast(value, name, to, _rewrite.Names.Make(name + "_cast"));
        }
        return name;
    }

    private void AddCast(string input, string output, int to, string name)
    {
        _rewrite.Add(Cast(name, input, output, to));
        _casts++;
    }

    /// <summary>Replaces an attribute; a Constant's value may be spelled value_float(s) and becomes one "value" tensor.</summary>
    private void SetAttribute(NodeProto node, AttributeProto attribute)
    {
        var edited = _rewrite.Edit(node);
        Func<AttributeProto, bool> replaces = node.OpType == "Constant" ? a => a.Name.StartsWith("value", StringComparison.Ordinal) : a => a.Name == attribute.Name;
        foreach (var old in edited.Attribute.Where(replaces).ToList())
            edited.Attribute.Remove(old);
        edited.Attribute.Add(attribute);
    }

    /// <summary>Shape and Size read only the shape and Cast accepts any type: their inputs need no precision change.</summary>
    private static bool ReadsAnyType(NodeProto node) => node.OpType is "Shape" or "Size" or "Cast";

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
