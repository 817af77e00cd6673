using PeftOnnx.Hosting.Http;

namespace PeftOnnx.Fuzz.Targets;

/// <summary>A POST /v1/classify or /v1/embed body, read and checked as the API does (<see cref="TextsRequestParser"/>).</summary>
public sealed class HttpBodyTarget : FuzzTarget
{
    private static readonly HttpApiOptions Limits = new();

    public override string Name => "http-body";

    public override string Description => "a POST /v1/classify or /v1/embed request body";

    public override void Run(ReadOnlySpan<byte> input) => TextsRequestParser.Parse(input, Limits);

    /// <summary>The parser's one refusal: a 400 or 413 answer naming the problem.</summary>
    public override bool IsOwnFormatError(Exception exception) => exception is ApiRequestException;
}
