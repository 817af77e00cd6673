using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using PeftOnnx.Hosting.Metrics;
using PeftOnnx.Hosting.Outbox;
using PeftOnnx.Hosting.Worker;
using PeftOnnx.Runtime.Adapters;
using PeftOnnx.Runtime.Scoring;

namespace PeftOnnx.Hosting.Http;

/// <summary>
/// The HTTP API: POST /v1/classify, POST /v1/embed, GET /v1/adapters, GET /healthz, GET /readyz. Bodies are read by
/// hand so that malformed JSON, too many texts, too-long texts and unknown adapters all get a JSON error body
/// (400 / 404 / 413) naming the problem.
/// </summary>
public static class ApiEndpoints
{
    public static IEndpointRouteBuilder MapPeftOnnxApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/classify", (Delegate)((HttpContext context) => HandleAsync(context, "classify", Classify)));
        app.MapPost("/v1/embed", (Delegate)((HttpContext context) => HandleAsync(context, "embed", Embed)));
        app.MapGet("/v1/adapters", (ITextScorer scorer) => Results.Json(scorer is IRoutedTextScorer routed
            ? new AdaptersResponse(scorer.ModelId, routed.DefaultAdapter, routed.Adapters)
            : new AdaptersResponse(scorer.ModelId, null, []), ResultJson.Compact));
        app.MapGet("/healthz", () => Results.Json(new { status = "alive" }));
        app.MapGet("/readyz", (Readiness readiness, ITextScorer scorer) => readiness.IsReady
            ? Results.Json(new { status = "ready", model_id = scorer.ModelId }, ResultJson.Compact)
            : Results.Json(new { status = "starting", pending = readiness.Pending }, ResultJson.Compact, statusCode: StatusCodes.Status503ServiceUnavailable));
        return app;
    }

    private static async Task<IResult> HandleAsync(
        HttpContext context, string endpoint, Func<ITextScorer, string?, IReadOnlyList<TextScore>, IResult> respond)
    {
        var started = Stopwatch.GetTimestamp();
        var services = context.RequestServices;
        var metrics = services.GetRequiredService<HostingMetrics>();
        var result = await ProcessAsync(context, endpoint, respond, services);
        var status = result is IStatusCodeHttpResult { StatusCode: { } code } ? code : StatusCodes.Status200OK;
        metrics.RecordRequest(endpoint, status, Stopwatch.GetElapsedTime(started));
        return result;
    }

    private static async Task<IResult> ProcessAsync(
        HttpContext context, string endpoint, Func<ITextScorer, string?, IReadOnlyList<TextScore>, IResult> respond,
        IServiceProvider services)
    {
        var limits = services.GetRequiredService<IOptions<HttpApiOptions>>().Value;
        var scorer = services.GetRequiredService<ITextScorer>();
        TextsRequest? request;
        try
        {
            request = await JsonSerializer.DeserializeAsync<TextsRequest>(context.Request.Body, ResultJson.Compact, context.RequestAborted);
        }
        catch (JsonException e)
        {
            return Error(StatusCodes.Status400BadRequest, "malformed_json", $"the body is not valid JSON for {{\"texts\": [...]}}: {e.Message}");
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return Error(StatusCodes.Status413PayloadTooLarge, "body_too_large", $"the request body is larger than {limits.MaxRequestBytes} bytes.");
        }

        if (request?.Texts is not { Count: > 0 } texts)
            return Error(StatusCodes.Status400BadRequest, "no_texts", "texts must be a non-empty array of strings, e.g. {\"texts\": [\"first document\"]}.");
        if (texts.Count > limits.MaxTextsPerRequest)
            return Error(StatusCodes.Status413PayloadTooLarge, "too_many_texts",
                $"{texts.Count} texts in one request; the limit is {limits.MaxTextsPerRequest}. Split the request.");
        for (var i = 0; i < texts.Count; i++)
        {
            if (texts[i] is null)
                return Error(StatusCodes.Status400BadRequest, "null_text", $"texts[{i}] is null; every text must be a string.");
            if (texts[i]!.Length > limits.MaxCharsPerText)
                return Error(StatusCodes.Status413PayloadTooLarge, "text_too_long",
                    $"texts[{i}] has {texts[i]!.Length} characters; the limit is {limits.MaxCharsPerText}.");
        }
        if (SelectAdapter(scorer, request.Adapter, out var adapter, out var used) is { } refused)
            return refused;

        var batcher = services.GetRequiredService<MicroBatcher>();
        try
        {
            var scores = await batcher.ScoreAsync(texts!, adapter, context.RequestAborted);
            return respond(scorer, used, scores);
        }
        catch (AdapterNotFoundException e)
        {
            // Removed from the adapter folder after the check above.
            return Error(StatusCodes.Status404NotFound, "unknown_adapter", e.Message, scorer is IRoutedTextScorer routed ? routed.Adapters : []);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return Error(499, "cancelled", "the client went away.");
        }
        catch (ObjectDisposedException)
        {
            return Error(StatusCodes.Status503ServiceUnavailable, "shutting_down", "the server is shutting down; retry on another worker.");
        }
        catch (Exception e)
        {
            return Error(StatusCodes.Status500InternalServerError, "scoring_failed", $"{endpoint} failed: {e.Message}");
        }
    }

    /// <summary>
    /// Checks the requested adapter against what the scorer serves now. Side-graph bundles: a served name, or none (the
    /// default adapter). Merged bundles: none, or the bundle's own model id (its adapter is merged in). Sets the adapter
    /// to score with (<paramref name="forScorer"/>, null: the scorer's default) and the one the response names
    /// (<paramref name="used"/>); returns the error response when the request cannot be served.
    /// </summary>
    private static IResult? SelectAdapter(ITextScorer scorer, string? requested, out string? forScorer, out string? used)
    {
        forScorer = null;
        used = requested;
        if (scorer is not IRoutedTextScorer routed)
        {
            return requested is null || requested == scorer.ModelId ? null : Error(StatusCodes.Status404NotFound, "unknown_adapter",
                $"adapter '{requested}' is not loaded; this server serves the merged bundle '{scorer.ModelId}' (name it or leave adapter out).", []);
        }
        var served = routed.Adapters;
        if (requested is not null && !served.Contains(requested, StringComparer.Ordinal))
        {
            return Error(StatusCodes.Status404NotFound, "unknown_adapter",
                $"adapter '{requested}' is not loaded; loaded adapters: {(served.Count == 0 ? "none" : string.Join(", ", served))}.", served);
        }
        if (requested is null && routed.RequiresAdapter)
        {
            return Error(StatusCodes.Status400BadRequest, "adapter_required",
                $"{scorer.ModelId} keeps its classifiers in its adapters: name one in \"adapter\" ({(served.Count == 0 ? "none loaded" : string.Join(", ", served))}).", served);
        }
        forScorer = requested;
        used = requested ?? routed.DefaultAdapter;
        return null;
    }

    private static IResult Classify(ITextScorer scorer, string? adapter, IReadOnlyList<TextScore> scores)
    {
        if (scorer.Labels is not { } labels)
            return Error(StatusCodes.Status400BadRequest, "not_a_classifier", $"{scorer.ModelId} is an embedding model; use POST /v1/embed.");
        var results = scores.Select(s => new ClassifyResult(
            s.Label!, s.Score, labels.Select((label, i) => (label, s.Probabilities![i])).ToDictionary(x => x.label, x => x.Item2), s.Chunks)).ToArray();
        return Results.Json(new ClassifyResponse(scorer.ModelId, adapter, results), ResultJson.Compact);
    }

    private static IResult Embed(ITextScorer scorer, string? adapter, IReadOnlyList<TextScore> scores)
    {
        if (scores.Any(s => s.Embedding is null))
            return Error(StatusCodes.Status400BadRequest, "no_embeddings", $"{scorer.ModelId} does not produce embeddings; use POST /v1/classify.");
        return Results.Json(new EmbedResponse(scorer.ModelId, adapter, scores.Select(s => s.Embedding!).ToArray()), ResultJson.Compact);
    }

    private static IResult Error(int status, string code, string message, IReadOnlyList<string>? adapters = null) =>
        Results.Json(ApiError.Of(code, message, adapters), ResultJson.Compact, statusCode: status);
}
