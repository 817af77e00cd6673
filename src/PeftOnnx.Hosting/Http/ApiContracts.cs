using System.Text.Json.Serialization;

namespace PeftOnnx.Hosting.Http;

/// <summary>
/// POST /v1/classify and /v1/embed body: the texts, and optionally the adapter to use (a side-graph bundle's adapter
/// name; a merged bundle accepts only its own model id).
/// </summary>
public sealed record TextsRequest(IReadOnlyList<string?>? Texts, string? Adapter = null);

/// <summary>Results in text order; <see cref="Adapter"/> is the adapter that scored them (null: none, written as null).</summary>
public sealed record ClassifyResponse(
    string ModelId, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Adapter, IReadOnlyList<ClassifyResult> Results);

/// <summary>
/// One text's label, its probability, and every label's probability in model order; for a multi-label model also
/// <c>Labels</c>, the labels at or above their thresholds, most probable first (null for other models). A parallel
/// bundle's result has <c>Tasks</c> (task name -> that task's result) instead of label, score and probabilities.
/// </summary>
public sealed record ClassifyResult(string? Label, float? Score, IReadOnlyDictionary<string, float>? Probabilities, int Chunks,
    IReadOnlyList<PeftOnnx.Hosting.Outbox.LabelScore>? Labels = null, IReadOnlyDictionary<string, PeftOnnx.Hosting.Outbox.TaskResult>? Tasks = null);

/// <summary>Embeddings in text order; <see cref="Adapter"/> as in <see cref="ClassifyResponse"/>.</summary>
public sealed record EmbedResponse(
    string ModelId, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Adapter, IReadOnlyList<float[]> Embeddings);

/// <summary>GET /v1/adapters: the adapters a request may name now (empty for a merged bundle) and the default one.</summary>
public sealed record AdaptersResponse(
    string ModelId, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? DefaultAdapter, IReadOnlyList<string> Adapters);

/// <summary>
/// GET /healthz and /readyz: <see cref="Status"/> is alive, ready or starting; a ready server names its model, a
/// starting one what it still waits for.
/// </summary>
public sealed record HealthResponse(string Status, string? ModelId = null, IReadOnlyDictionary<string, string>? Pending = null);

/// <summary>Every error the API returns: {"error": {"code": "...", "message": "..."}}.</summary>
public sealed record ApiError(ApiErrorBody Error)
{
    public static ApiError Of(string code, string message, IReadOnlyList<string>? adapters = null) => new(new ApiErrorBody(code, message, adapters));
}

/// <summary><see cref="Adapters"/>: the served adapter names, on unknown_adapter and adapter_required errors only.</summary>
public sealed record ApiErrorBody(string Code, string Message, IReadOnlyList<string>? Adapters = null);
