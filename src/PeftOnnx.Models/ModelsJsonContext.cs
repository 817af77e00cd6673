using System.Text.Json.Serialization;

namespace PeftOnnx.Models;

/// <summary>Source-generated JSON metadata for <see cref="PullStamp"/> (`models list` runs in the Native AOT edge build).</summary>
[JsonSerializable(typeof(PullStamp))]
internal sealed partial class ModelsJsonContext : JsonSerializerContext;
