namespace PeftOnnx.Core.Adapters;

/// <summary>
/// PEFT's tensor names in adapter_model.safetensors (the adapter name ".default" stripped, as save_pretrained does):
/// <list type="bullet">
/// <item>bare encoder (task_type null / FEATURE_EXTRACTION): <c>base_model.model.&lt;module&gt;.&lt;param&gt;</c></item>
/// <item>task models (SEQ_CLS, TOKEN_CLS, QUESTION_ANS wrap BertForX): <c>base_model.model.bert.&lt;module&gt;.&lt;param&gt;</c>,
/// modules_to_save under their own name: <c>base_model.model.classifier.weight</c></item>
/// <item>prompt learning: <c>prompt_embeddings</c> and <c>base_model.classifier.weight</c> (no "model.")</item>
/// </list>
/// </summary>
public sealed class PeftKeys
{
    public const string ModelRoot = "base_model.model.";
    public const string PromptRoot = "base_model.";
    public const string PromptEmbeddings = "prompt_embeddings";

    private static readonly string[] HeadTasks = ["SEQ_CLS", "TOKEN_CLS", "QUESTION_ANS"];

    /// <param name="taskType">PEFT task_type of the adapter (null for a bare encoder).</param>
    /// <param name="architecture">The attribute under which task models hold the encoder ("bert" for BERT-family models).</param>
    public PeftKeys(string? taskType, string architecture = "bert")
    {
        ArgumentException.ThrowIfNullOrEmpty(architecture);
        Architecture = architecture;
        UsesTaskModel = taskType is not null && HeadTasks.Contains(taskType);
        EncoderPrefix = UsesTaskModel ? $"{ModelRoot}{architecture}." : ModelRoot;
    }

    public string Architecture { get; }

    /// <summary>True when PEFT wrapped a BertForX model, so encoder keys carry the "bert." segment.</summary>
    public bool UsesTaskModel { get; }

    /// <summary>"base_model.model." or "base_model.model.bert.".</summary>
    public string EncoderPrefix { get; }

    public string LoraA(string module) => $"{EncoderPrefix}{module}.lora_A.weight";
    public string LoraB(string module) => $"{EncoderPrefix}{module}.lora_B.weight";
    public string LoraBBias(string module) => $"{EncoderPrefix}{module}.lora_B.bias";
    public string LoraMagnitude(string module) => $"{EncoderPrefix}{module}.lora_magnitude_vector";
    public string Ia3(string module) => $"{EncoderPrefix}{module}.ia3_l";

    /// <summary>Any other parameter of an encoder module (bias="all" biases, bottleneck adapter weights).</summary>
    public string EncoderParameter(string module, string parameter) => $"{EncoderPrefix}{module}.{parameter}";

    /// <summary>A modules_to_save tensor of the task model: "base_model.model.classifier.weight".</summary>
    public static string SavedModule(string module, string parameter) => $"{ModelRoot}{module}.{parameter}";

    /// <summary>Splits a tensor name of an adapter file; throws naming the key when it is not a PEFT name.</summary>
    public AdapterKey Parse(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key == PromptEmbeddings)
            return new AdapterKey(key, "", key, InEncoder: false);

        string rest;
        if (key.StartsWith(ModelRoot, StringComparison.Ordinal))
            rest = key[ModelRoot.Length..];
        else if (key.StartsWith(PromptRoot, StringComparison.Ordinal))
            return Split(key, key[PromptRoot.Length..], inEncoder: false);
        else
            throw new InvalidDataException($"adapter tensor '{key}' is not a PEFT name: expected '{ModelRoot}<module>.<parameter>' or '{PromptEmbeddings}'.");

        var encoderSegment = Architecture + ".";
        if (rest.StartsWith(encoderSegment, StringComparison.Ordinal))
            return Split(key, rest[encoderSegment.Length..], inEncoder: true);
        // Without a task model every module is an encoder module; with one, other names are head modules (classifier).
        return Split(key, rest, inEncoder: !UsesTaskModel);
    }

    private static AdapterKey Split(string key, string path, bool inEncoder)
    {
        if (AdapterMethods.SplitParameter(path) is { } split)
            return new AdapterKey(key, split.Module, split.Parameter, inEncoder);
        var dot = path.LastIndexOf('.');
        if (dot <= 0)
            throw new InvalidDataException($"adapter tensor '{key}' names no module: expected '<module>.<parameter>'.");
        return new AdapterKey(key, path[..dot], path[(dot + 1)..], inEncoder);
    }
}
