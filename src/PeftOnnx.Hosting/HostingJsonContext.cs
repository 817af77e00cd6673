using System.Text.Json.Serialization;
using PeftOnnx.Hosting.Http;
using PeftOnnx.Hosting.Outbox;

namespace PeftOnnx.Hosting;

/// <summary>Source-generated JSON metadata for result records and the HTTP API's bodies (Native AOT has no reflection).</summary>
[JsonSerializable(typeof(ResultRecord))]
[JsonSerializable(typeof(TextsRequest))]
[JsonSerializable(typeof(ClassifyResponse))]
[JsonSerializable(typeof(EmbedResponse))]
[JsonSerializable(typeof(AdaptersResponse))]
[JsonSerializable(typeof(HealthResponse))]
[JsonSerializable(typeof(ApiError))]
internal sealed partial class HostingJsonContext : JsonSerializerContext;
