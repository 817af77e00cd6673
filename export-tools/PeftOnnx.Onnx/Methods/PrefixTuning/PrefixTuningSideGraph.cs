using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Adapters.PrefixTuning;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.OrtAdapters;
using PeftOnnx.Onnx.Passes;
using PeftOnnx.Onnx.Side;

namespace PeftOnnx.Onnx.Methods.PrefixTuning;

/// <summary>Prefix tuning as a side graph: per-layer keys and values are adapter inputs joined to every attention (<see cref="PrefixTuningPass"/>).</summary>
public sealed class PrefixTuningSideGraph : ISideGraphMethod
{
    public static PrefixTuningSideGraph Method { get; } = new();

    public string PeftType => PrefixTuningConfig.TypeName;

    public bool MixedBatches => false;

    public SideGraphManifest Build(SideGraphRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var adapter = request.Adapters[0];
        var config = (PrefixTuningConfig)adapter.Config;
        if (config.TokenDim % config.NumAttentionHeads != 0)
            throw new InvalidDataException($"token_dim {config.TokenDim} is not a multiple of num_attention_heads {config.NumAttentionHeads}.");
        var table = SideParameters.PromptTable(adapter, config.NumVirtualTokens, config.PrefixWidth);
        var slots = request.Model.Applied(new PrefixTuningPass(request.Map, table, config.NumVirtualTokens, config.NumLayers, config.NumAttentionHeads, config.TokenDim)).Slots;
        return new SideGraphManifest { Form = SideGraphManifest.SideForm, PeftType = PeftType, BaseModel = request.BaseName, Parameters = slots };
    }

    public IEnumerable<OrtAdapterParameter> Parameters(PeftAdapter adapter, SideGraphManifest side, SideBaseWeights baseWeights) => SideParameters.Collect(adapter, side);
}
