using System.Text.Json;
using System.Text.Json.Serialization;

namespace PeftOnnx.Core.Json;

/// <summary>
/// An enum as its snake_case name ("sequence_classification"). Put on the enums the runtime reads and writes, so the
/// Native AOT edge build (source-generated JSON, no reflection) spells them as <see cref="PeftJson.Options"/> does.
/// </summary>
public sealed class SnakeCaseEnumConverter<TEnum>() : JsonStringEnumConverter<TEnum>(JsonNamingPolicy.SnakeCaseLower)
    where TEnum : struct, Enum;
