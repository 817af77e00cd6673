using System.Text.Json;
using PeftOnnx.Core.Json;

namespace PeftOnnx.Hosting.Http;

/// <summary>A POST /v1/classify or /v1/embed body that passed every check: at least one text, none null, none too long.</summary>
public sealed record ParsedTextsRequest(IReadOnlyList<string> Texts, string? Adapter);

/// <summary>
/// Reads a POST /v1/classify or /v1/embed body (UTF-8 JSON bytes) against the request limits. The only outcomes are a
/// <see cref="ParsedTextsRequest"/> or an <see cref="ApiRequestException"/> naming the problem (400 for bodies that are not
/// {"texts": [...]} with strings, 413 for too many or too long texts), so the fuzz target and the endpoint share it.
/// </summary>
public static class TextsRequestParser
{
    public static ParsedTextsRequest Parse(ReadOnlySpan<byte> body, HttpApiOptions limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        TextsRequest? request;
        try
        {
            request = JsonSerializer.Deserialize(body, ApiJson.Options.TypeInfo<TextsRequest>());
        }
        catch (JsonException e)
        {
            throw new ApiRequestException(400, "malformed_json", $"the body is not valid JSON for {{\"texts\": [...]}}: {e.Message}");
        }

        if (request?.Texts is not { Count: > 0 } texts)
            throw new ApiRequestException(400, "no_texts", "texts must be a non-empty array of strings, e.g. {\"texts\": [\"first document\"]}.");
        if (texts.Count > limits.MaxTextsPerRequest)
        {
            throw new ApiRequestException(413, "too_many_texts",
                $"{texts.Count} texts in one request; the limit is {limits.MaxTextsPerRequest} (Http:MaxTextsPerRequest). Split the request.");
        }
        var checkedTexts = new string[texts.Count];
        for (var i = 0; i < texts.Count; i++)
        {
            if (texts[i] is not { } text)
                throw new ApiRequestException(400, "null_text", $"texts[{i}] is null; every text must be a string.");
            if (text.Length > limits.MaxCharsPerText)
            {
                throw new ApiRequestException(413, "text_too_long",
                    $"texts[{i}] has {text.Length} characters; the limit is {limits.MaxCharsPerText} (Http:MaxCharsPerText).");
            }
            checkedTexts[i] = text;
        }
        return new ParsedTextsRequest(checkedTexts, request.Adapter);
    }
}
