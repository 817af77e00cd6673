using System.Text.Json.Nodes;
using CsCheck;

namespace PeftOnnx.Fuzz.Tests;

/// <summary>Generators of JSON values for the structured formats: boundary numbers, awkward strings, nesting.</summary>
internal static class JsonGen
{
    private static readonly long[] BoundaryNumbers = [0, 1, -1, 2, 8, 255, 256, 65536, int.MaxValue, int.MinValue, 1L << 40, long.MaxValue, long.MinValue];

    /// <summary>Strings that break naive readers: empty, control characters, surrogate pairs, paths, regex syntax.</summary>
    public static readonly Gen<string> AwkwardString = Gen.OneOf(
        Gen.String,
        Gen.OneOf("", " ", "\0", "\u00e9", "\U0001F600", "../../etc/passwd", "/dev/zero", "a/b", "(", "[", ".*", "query", "value",
            "model.onnx", "vocab.txt", "LORA", "IA3", "SEQ_CLS", "mean", "cls", "pooler", "fp16", "int8", "side", "merged", "\\"));

    public static readonly Gen<JsonNode?> Scalar = Gen.OneOf<JsonNode?>(
        Gen.Const((JsonNode?)null),
        Gen.Bool.Select(b => (JsonNode?)JsonValue.Create(b)),
        Gen.OneOf(BoundaryNumbers).Select(n => (JsonNode?)JsonValue.Create(n)),
        Gen.Long.Select(n => (JsonNode?)JsonValue.Create(n)),
        Gen.Double.Where(double.IsFinite).Select(d => (JsonNode?)JsonValue.Create(d)),
        AwkwardString.Select(s => (JsonNode?)JsonValue.Create(s)));

    /// <summary>A scalar, an array of scalars or strings, or a small object of scalars.</summary>
    public static readonly Gen<JsonNode?> Value = Gen.Frequency<JsonNode?>(
        (6, Scalar),
        (2, Scalar.Array[0, 4].Select(items => (JsonNode?)new JsonArray([.. items]))),
        (2, AwkwardString.Array[0, 4].Select(items => (JsonNode?)new JsonArray([.. items.Select(i => (JsonNode?)JsonValue.Create(i))]))),
        (1, Gen.Select(AwkwardString, Scalar).Array[0, 3].Select(pairs => (JsonNode?)Object(pairs))));

    /// <summary>An object holding a random subset of <paramref name="fields"/>, each with a random value, plus fixed ones.</summary>
    public static Gen<JsonObject> ObjectOf(string[] fields, params (string Name, JsonNode? Value)[] fixedFields) =>
        Gen.Select(Gen.Bool.Array[fields.Length], Value.Array[fields.Length], (present, values) =>
        {
            var json = new JsonObject();
            foreach (var (name, value) in fixedFields)
                json[name] = value?.DeepClone();
            for (var i = 0; i < fields.Length; i++)
            {
                if (present[i])
                    json[fields[i]] = values[i];
            }
            return json;
        });

    private static JsonObject Object((string Key, JsonNode? Value)[] pairs)
    {
        var json = new JsonObject();
        foreach (var (key, value) in pairs)
            json[key] = value;
        return json;
    }
}
