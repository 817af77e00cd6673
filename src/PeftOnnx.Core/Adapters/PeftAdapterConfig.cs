using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using PeftOnnx.Core.Json;
using PeftOnnx.Core.Files;

namespace PeftOnnx.Core.Adapters;

/// <summary>
/// adapter_config.json as Hugging Face PEFT writes it. The concrete type follows <c>peft_type</c>; fields PEFT
/// writes that PeftOnnx does not use (auto_mapping, revision, ...) are ignored on read.
/// </summary>
public abstract record PeftAdapterConfig
{
    public const string FileName = "adapter_config.json";

    [JsonPropertyOrder(-1)]
    public abstract string PeftType { get; }

    /// <summary>PEFT's task type: null (bare encoder), FEATURE_EXTRACTION or SEQ_CLS for the models PeftOnnx serves.</summary>
    public string? TaskType { get; init; }

    /// <summary>Modules trained in full and saved under their own names (the classifier of a SEQ_CLS adapter).</summary>
    public IReadOnlyList<string>? ModulesToSave { get; init; }

    public string? BaseModelNameOrPath { get; init; }
    public string? PeftVersion { get; init; }
    public bool InferenceMode { get; init; } = true;

    /// <summary>Which Linear modules the method wraps (target_modules and friends), or null for methods that wrap none.</summary>
    public virtual AdapterTargetMatcher? CreateMatcher() => null;

    /// <summary>Throws <see cref="InvalidDataException"/> naming the first bad value.</summary>
    public abstract void Validate();

    /// <summary>Reads and validates adapter_config.json.</summary>
    public static PeftAdapterConfig Load(string path) => Parse(ReadObject(path), path);

    /// <summary>adapter_config.json as a JSON object, as written (kept verbatim for provenance).</summary>
    public static JsonObject ReadObject(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path} does not exist; a PEFT adapter folder holds {FileName} and adapter_model.safetensors.", path);
        JsonNode? node;
        try
        {
            // A key given twice is refused here rather than failing later when the object is first read.
            node = JsonNode.Parse(RegularFile.ReadAllText(path), documentOptions: new JsonDocumentOptions
            {
                AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip, AllowDuplicateProperties = false,
            });
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // The duplicate check reads property names, and throws InvalidOperationException for a lone "\ud800" escape.
            throw new InvalidDataException($"{path} is not valid JSON: {e.Message}", e);
        }
        return node as JsonObject
            ?? throw new InvalidDataException($"{path} must hold a JSON object, got {node?.GetValueKind().ToString() ?? "null"}.");
    }

    /// <summary>Picks the config type registered for <c>peft_type</c> (<see cref="AdapterMethods"/>), deserializes and validates it.</summary>
    public static PeftAdapterConfig Parse(JsonObject json, string source)
    {
        ArgumentNullException.ThrowIfNull(json);
        string? peftType;
        try
        {
            peftType = json["peft_type"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        }
        catch (InvalidOperationException e)
        {
            throw NotUnicode(source, e);
        }
        if (peftType is null)
            throw new InvalidDataException($"{source} has no string `peft_type`; supported types: {string.Join(", ", AdapterMethods.PeftTypes)}.");
        var type = AdapterMethods.Find(peftType)?.ConfigType
            ?? throw new InvalidDataException($"{source}: peft_type \"{peftType}\" is not supported; supported types: {string.Join(", ", AdapterMethods.PeftTypes)}.");
        PeftAdapterConfig config;
        try
        {
            config = (PeftAdapterConfig)(json.Deserialize(PeftJson.ReadOptions.GetTypeInfo(type))
                ?? throw new InvalidDataException($"{source} holds JSON null."));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: {peftType} config field {e.Path} is invalid: {e.Message}", e);
        }
        catch (InvalidOperationException e)
        {
            throw NotUnicode(source, e);
        }
        try
        {
            config.Validate();
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{source}: {e.Message}", e);
        }
        return config;
    }

    /// <summary>Writes the config in PEFT's layout (atomic), so PEFT's <c>PeftModel.from_pretrained</c> can load it.</summary>
    public void Save(string path)
    {
        Validate();
        PeftJson.Save<object>(path, this);
    }

    // A parsed JsonNode checks a string's escapes only when it is read: a lone "\ud800" fails there, not in Parse.
    private static InvalidDataException NotUnicode(string source, InvalidOperationException e) =>
        new($"{source} holds a string that is not valid Unicode: {e.Message}", e);

    /// <summary>The error every validation throws: "`r` should be positive, got 0".</summary>
    protected static InvalidDataException Invalid(string message) => new(message);
}
