using System.Text.Json;
using System.Text.Json.Serialization;
using PeftOnnx.Core.Files;

namespace PeftOnnx.Core.Json;

/// <summary>JSON settings shared by every manifest the project reads or writes (snake_case, like Hugging Face files).</summary>
public static class PeftJson
{
    public static JsonSerializerOptions Options { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>
    /// <see cref="Options"/> for reading files from outside: a JSON null for a property whose type is not nullable is an
    /// error naming the property, instead of a null that fails later, far from the file.
    /// </summary>
    public static JsonSerializerOptions ReadOptions { get; } = new(Options) { RespectNullableAnnotations = true };

    /// <summary>Reads a JSON file into <typeparamref name="T"/>, naming the file in any error.</summary>
    public static T Load<T>(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path} does not exist.", path);
        try
        {
            using var stream = RegularFile.OpenRead(path);
            return JsonSerializer.Deserialize<T>(stream, ReadOptions)
                ?? throw new InvalidDataException($"{path} holds JSON null, expected a {typeof(T).Name}.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not a valid {typeof(T).Name}: {e.Message}", e);
        }
    }

    /// <summary>Writes <paramref name="value"/> as JSON atomically (temp file, then rename).</summary>
    public static void Save<T>(string path, T value)
    {
        var tmp = path + ".tmp";
        using (var stream = File.Create(tmp))
            JsonSerializer.Serialize(stream, value, Options);
        File.Move(tmp, path, overwrite: true);
    }
}
