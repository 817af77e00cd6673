using System.Text.Json;
using System.Text.Json.Serialization;

namespace PeftOnnx.Core.Adapters;

/// <summary>Reads and writes <see cref="TargetModules"/> as PEFT does: a JSON array of names or one regex string.</summary>
public sealed class TargetModulesJsonConverter : JsonConverter<TargetModules>
{
    public override TargetModules? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return null;
            case JsonTokenType.String:
                return TargetModules.FromPattern(reader.GetString()!);
            case JsonTokenType.StartArray:
                var names = new List<string>();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (reader.TokenType != JsonTokenType.String)
                        throw new JsonException($"module lists hold strings, got {reader.TokenType}.");
                    names.Add(reader.GetString()!);
                }
                return TargetModules.FromNames(names);
            default:
                throw new JsonException($"expected a list of module names or a regex string, got {reader.TokenType}.");
        }
    }

    public override void Write(Utf8JsonWriter writer, TargetModules value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(value);
        if (value.Pattern is not null)
        {
            writer.WriteStringValue(value.Pattern);
            return;
        }
        writer.WriteStartArray();
        foreach (var name in value.Names ?? [])
            writer.WriteStringValue(name);
        writer.WriteEndArray();
    }
}
