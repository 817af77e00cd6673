using System.Text.Json.Serialization;
using PeftOnnx.Core.Models;

namespace PeftOnnx.Core.Bundles;

/// <summary>
/// side.json in a side-graph bundle: the graph inputs adapters may set, so that the runtime can check an adapter file
/// against the graph before it serves it. Form "side": one adapter per run (ONNX Runtime's OrtLoraAdapter binds the
/// inputs); form "mixed": adapters stacked on a leading adapter axis and picked per row by <see cref="AdapterIndexInput"/>.
/// </summary>
public sealed record SideGraphManifest
{
    // Defaulted properties are `set`, not `init`: source-generated JSON sets init-only ones all at once and would replace
    // the default of one missing from the file with null/false/0 (CoreJsonContext).
    public const string FileName = "side.json";
    public const string SideForm = "side";
    public const string MixedForm = "mixed";
    public const string AdapterFolder = "adapters";

    /// <summary>"side" or "mixed".</summary>
    public required string Form { get; init; }

    /// <summary>
    /// peft_type of the method the graph serves (one with a side-graph form: LORA, PROMPT_TUNING, PREFIX_TUNING,
    /// BOTTLENECK, LOREFT, GATED_PROMPT); a mixed graph of several methods joins them with '+' ("LORA+LOREFT").
    /// </summary>
    public required string PeftType { get; init; }

    /// <summary>The methods of <see cref="PeftType"/>.</summary>
    [JsonIgnore]
    public IReadOnlyList<string> PeftTypes => PeftType.Split('+');

    /// <summary>Base model the adapters must have been trained on.</summary>
    public required string BaseModel { get; init; }

    /// <summary>The base's Hugging Face Hub id, if its manifest names one.</summary>
    public string? BaseHubId { get; init; }

    /// <summary>sha256 of the base's model.onnx; adapter files carry <see cref="BaseModelIdentity.Fingerprint"/> of it as model_version.</summary>
    public string? BaseSha256 { get; init; }

    /// <summary>The base the adapters must have been made for.</summary>
    public BaseModelIdentity BaseIdentity() => new(BaseModel, BaseHubId, BaseSha256);

    /// <summary>Highest LoRA rank an adapter may have (the mixed form pads every adapter to it).</summary>
    public int MaxRank { get; init; }

    /// <summary>The per-row adapter index input of the mixed form (int64 [batch], 0 = no adapter).</summary>
    public string? AdapterIndexInput { get; init; }

    /// <summary>Modules with a LoRA branch.</summary>
    public IReadOnlyList<SideLoraSlot> Lora { get; set; } = [];

    /// <summary>Other inputs an adapter sets with a fixed shape (classifier.weight, prompt_embeddings, bottleneck weights).</summary>
    public IReadOnlyList<SideParameterSlot> Parameters { get; set; } = [];
}

/// <summary>
/// One module's LoRA branch <c>y += (x·A)·B</c>: A [in, r] under <see cref="AInput"/>, B [r, out] (scale folded in)
/// under <see cref="BInput"/>; in the mixed form the inputs carry a leading adapter axis.
/// </summary>
public sealed record SideLoraSlot(string Module, string AInput, string BInput, int InFeatures, int OutFeatures);

/// <summary>A fixed-shape adapter input; in the mixed form <see cref="Input"/> has a leading adapter axis before <see cref="Shape"/>.</summary>
public sealed record SideParameterSlot(string Name, string Input, long[] Shape);
