using PeftOnnx.Core.Adapters;
using PeftOnnx.Onnx.Methods.Bottleneck;
using PeftOnnx.Onnx.Methods.Fusion;
using PeftOnnx.Onnx.Methods.GatedPrompt;
using PeftOnnx.Onnx.Methods.Lora;
using PeftOnnx.Onnx.Methods.LoReft;
using PeftOnnx.Onnx.Methods.PrefixTuning;
using PeftOnnx.Onnx.Methods.PromptTuning;
using PeftOnnx.Onnx.Methods.Stack;

namespace PeftOnnx.Onnx.Side;

/// <summary>
/// The exporter's registry of side-graph methods: a method is its folder under Methods/ plus one line here. The side
/// bundle exporter and the adapter converter read it; nothing else switches on the method type.
/// </summary>
public static class SideGraphMethods
{
    private static readonly ISideGraphMethod[] Registered =
    [
        LoraSideGraph.Method,
        PromptTuningSideGraph.Method,
        PrefixTuningSideGraph.Method,
        BottleneckSideGraph.Method,
        LoReftSideGraph.Method,
        GatedPromptSideGraph.Method,
        FusionSideGraph.Method,
        StackSideGraph.Method,
    ];

    /// <summary>The peft_type of every method with a side-graph form, for messages and help.</summary>
    public static IEnumerable<string> PeftTypes => Registered.Select(m => m.PeftType);

    /// <summary>The side-graph form of <paramref name="peftType"/>; throws naming the methods that have one (or the mixed form).</summary>
    public static ISideGraphMethod For(string peftType, bool mixed)
    {
        ArgumentNullException.ThrowIfNull(peftType);
        var method = Registered.FirstOrDefault(m => m.PeftType == peftType)
            ?? throw new NotSupportedException(
                $"{peftType} adapters have no side-graph form; side-graph types: {string.Join(", ", PeftTypes)} " +
                $"(mergeable types export with --mode merged: {AdapterMethods.Describe(m => m.Mergeable)}).");
        if (mixed && !method.MixedBatches)
        {
            throw new NotSupportedException(
                $"the mixed form serves {string.Join(", ", Registered.Where(m => m.MixedBatches).Select(m => m.PeftType))} adapters; " +
                $"{peftType} adapters change the sequence or the layers and are served one per run with --mode side.");
        }
        return method;
    }
}
