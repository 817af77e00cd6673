namespace PeftOnnx.Hosting.Http;

/// <summary>POST /v1/classify and /v1/embed body: the texts, and optionally the adapter to use.</summary>
public sealed record TextsRequest(IReadOnlyList<string?>? Texts, string? Adapter = null);

public sealed record ClassifyResponse(string ModelId, IReadOnlyList<ClassifyResult> Results);

/// <summary>One text's label, its probability, and every label's probability in model order.</summary>
public sealed record ClassifyResult(string Label, float Score, IReadOnlyDictionary<string, float> Probabilities, int Chunks);

public sealed record EmbedResponse(string ModelId, IReadOnlyList<float[]> Embeddings);

/// <summary>Every error the API returns: {"error": {"code": "...", "message": "..."}}.</summary>
public sealed record ApiError(ApiErrorBody Error)
{
    public static ApiError Of(string code, string message) => new(new ApiErrorBody(code, message));
}

public sealed record ApiErrorBody(string Code, string Message);
