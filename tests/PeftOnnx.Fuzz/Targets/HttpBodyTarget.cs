using System.Text.Json;
using PeftOnnx.Hosting.Http;
using PeftOnnx.Hosting.Outbox;

namespace PeftOnnx.Fuzz.Targets;

/// <summary>A POST /v1/classify or /v1/embed body, read as the API reads it.</summary>
public sealed class HttpBodyTarget : FuzzTarget
{
    public override string Name => "http-body";

    public override string Description => "a POST /v1/classify or /v1/embed request body";

    public override void Run(ReadOnlySpan<byte> input) => JsonSerializer.Deserialize<TextsRequest>(input, ResultJson.Compact);

    public override bool IsOwnFormatError(Exception exception) => exception is JsonException;
}
