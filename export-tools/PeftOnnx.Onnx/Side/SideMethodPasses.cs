using Onnx;
using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Adapters.Bottleneck;
using PeftOnnx.Core.Adapters.PrefixTuning;
using PeftOnnx.Core.Adapters.PromptTuning;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Onnx.Modules;
using PeftOnnx.Onnx.Passes;

namespace PeftOnnx.Onnx.Side;

/// <summary>Side graphs of the methods that cannot merge: prompt tuning, prefix tuning, bottleneck adapters (one adapter per run).</summary>
public static class SideMethodPasses
{
    public static SideGraphManifest Apply(ModelProto model, ModuleMap map, string baseName, PeftAdapter adapter, bool mixed)
    {
        ArgumentNullException.ThrowIfNull(adapter);
        if (mixed)
            throw new NotSupportedException($"the mixed form stacks LoRA adapters; {adapter.Config.PeftType} adapters change the sequence or the layers and are served one per run with --mode side.");
        IReadOnlyList<SideParameterSlot> slots = adapter.Config switch
        {
            PromptTuningConfig prompt => model.Applied(new PromptTuningPass(Table(adapter, prompt.NumVirtualTokens, prompt.TokenDim), prompt.NumVirtualTokens, prompt.TokenDim)).Slots,
            PrefixTuningConfig prefix => model.Applied(Prefix(map, adapter, prefix)).Slots,
            BottleneckConfig bottleneck => model.Applied(new BottleneckAdapterPass(map, bottleneck, adapter.Tensors
                .Where(t => t.Key.InEncoder)
                .ToDictionary(t => SideParameters.SlotName(t.Key), t => (Array.ConvertAll(t.Data, v => (float)v), t.Shape), StringComparer.Ordinal))).Slots,
            var other => throw new NotSupportedException($"{other.PeftType} adapters have no side-graph form; LORA, PROMPT_TUNING, PREFIX_TUNING and BOTTLENECK do (IA3 merges: --mode merged)."),
        };
        return new SideGraphManifest { Form = SideGraphManifest.SideForm, PeftType = adapter.Config.PeftType, BaseModel = baseName, Parameters = slots };
    }

    private static PrefixTuningPass Prefix(ModuleMap map, PeftAdapter adapter, PrefixTuningConfig config)
    {
        if (config.TokenDim % config.NumAttentionHeads != 0)
            throw new InvalidDataException($"token_dim {config.TokenDim} is not a multiple of num_attention_heads {config.NumAttentionHeads}.");
        var table = Table(adapter, config.NumVirtualTokens, config.PrefixWidth);
        return new PrefixTuningPass(map, table, config.NumVirtualTokens, config.NumLayers, config.NumAttentionHeads, config.TokenDim);
    }

    private static float[] Table(PeftAdapter adapter, int rows, int cols)
    {
        var tensor = adapter.Get(PeftKeys.PromptEmbeddings);
        if (!tensor.Shape.SequenceEqual(new long[] { rows, cols }))
            throw new InvalidDataException($"{adapter.WeightsPath}: {PeftKeys.PromptEmbeddings} is {tensor.ShapeText}, the config says [{rows}, {cols}].");
        FiniteValues.Require(tensor.Data, $"adapter tensor {tensor.Name}");
        return Array.ConvertAll(tensor.Data, v => (float)v);
    }
}
