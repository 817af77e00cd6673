using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Adapters.PromptTuning;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.OrtAdapters;
using PeftOnnx.Onnx.Passes;
using PeftOnnx.Onnx.Side;

namespace PeftOnnx.Onnx.Methods.PromptTuning;

/// <summary>Prompt tuning as a side graph: the prompt table is an adapter input prepended to the embeddings (<see cref="PromptTuningPass"/>).</summary>
public sealed class PromptTuningSideGraph : ISideGraphMethod
{
    public static PromptTuningSideGraph Method { get; } = new();

    public string PeftType => PromptTuningConfig.TypeName;

    public bool MixedBatches => false;

    public SideGraphManifest Build(SideGraphRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var adapter = request.Adapters[0];
        var config = (PromptTuningConfig)adapter.Config;
        var table = SideParameters.PromptTable(adapter, config.NumVirtualTokens, config.TokenDim);
        var slots = request.Model.Applied(new PromptTuningPass(table, config.NumVirtualTokens, config.TokenDim)).Slots;
        return new SideGraphManifest { Form = SideGraphManifest.SideForm, PeftType = PeftType, BaseModel = request.BaseName, Parameters = slots };
    }

    public IEnumerable<OrtAdapterParameter> Parameters(PeftAdapter adapter, SideGraphManifest side, SideBaseWeights baseWeights) => SideParameters.Collect(adapter, side);
}
