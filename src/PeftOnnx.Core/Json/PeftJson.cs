using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using PeftOnnx.Core.Files;

namespace PeftOnnx.Core.Json;

/// <summary>
/// JSON settings shared by every manifest the project reads or writes (snake_case, like Hugging Face files). Types come
/// from source-generated contexts (<see cref="CoreJsonContext"/>, and each assembly's own through <see cref="With"/>);
/// where reflection is allowed (every build but the Native AOT edge build) any other type is served by reflection too.
/// </summary>
public static class PeftJson
{
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            WriteIndented = true,
            ReadCommentHandling = JsonCommentHandling.Skip,
            AllowTrailingCommas = true,
            TypeInfoResolver = CoreJsonContext.Default,
        };
        // The toolchain's types (export-tools, benchmarks) and enums are served by reflection. The Native AOT build turns
        // this switch off (and drops this branch): its types are all source-generated, its enums carry SnakeCaseEnumConverter.
        if (JsonSerializer.IsReflectionEnabledByDefault)
        {
            options.TypeInfoResolver = JsonTypeInfoResolver.Combine(CoreJsonContext.Default, new DefaultJsonTypeInfoResolver());
            options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        }
        return options;
    }

    /// <summary>
    /// <see cref="Options"/> for reading files from outside: a JSON null for a property whose type is not nullable is an
    /// error naming the property, instead of a null that fails later, far from the file.
    /// </summary>
    public static JsonSerializerOptions ReadOptions { get; } = new(Options) { RespectNullableAnnotations = true };

    /// <summary>
    /// <paramref name="options"/> (these settings or a copy of them) that also serve <paramref name="types"/>, an
    /// assembly's source-generated context, ahead of what <paramref name="options"/> already serves.
    /// </summary>
    public static JsonSerializerOptions With(this JsonSerializerOptions options, IJsonTypeInfoResolver types)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new JsonSerializerOptions(options) { TypeInfoResolver = JsonTypeInfoResolver.Combine(types, options.TypeInfoResolver) };
    }

    /// <summary>The metadata of <typeparamref name="T"/> in <paramref name="options"/>: the serializer overloads that need no reflection take it.</summary>
    public static JsonTypeInfo<T> TypeInfo<T>(this JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T));
    }

    /// <summary>Reads a JSON file into <typeparamref name="T"/>, naming the file in any error.</summary>
    public static T Load<T>(string path) => Load(path, ReadOptions.TypeInfo<T>());

    /// <summary>Reads a JSON file into <typeparamref name="T"/> as <paramref name="type"/> describes it, naming the file in any error.</summary>
    public static T Load<T>(string path, JsonTypeInfo<T> type)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path} does not exist.", path);
        try
        {
            using var stream = RegularFile.OpenRead(path);
            return JsonSerializer.Deserialize(stream, type)
                ?? throw new InvalidDataException($"{path} holds JSON null, expected a {typeof(T).Name}.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not a valid {typeof(T).Name}: {e.Message}", e);
        }
    }

    /// <summary>Writes <paramref name="value"/> as JSON atomically (temp file, then rename).</summary>
    public static void Save<T>(string path, T value) => Save(path, value, Options.TypeInfo<T>());

    /// <summary>Writes <paramref name="value"/> as <paramref name="type"/> describes it, atomically (temp file, then rename).</summary>
    public static void Save<T>(string path, T value, JsonTypeInfo<T> type)
    {
        var tmp = path + ".tmp";
        using (var stream = File.Create(tmp))
            JsonSerializer.Serialize(stream, value, type);
        File.Move(tmp, path, overwrite: true);
    }
}
