using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using PeftOnnx.Core.Json;
using PeftOnnx.Hosting.Metrics;
using PeftOnnx.Hosting.Outbox;
using PeftOnnx.Hosting.Worker;
using PeftOnnx.Runtime.Adapters;
using PeftOnnx.Runtime.Scoring;

namespace PeftOnnx.Hosting.Http;

/// <summary>
/// The HTTP API: POST /v1/classify, POST /v1/embed, GET /v1/adapters, GET /healthz, GET /readyz. POST bodies must be
/// application/json (415 otherwise) and are read by hand (<see cref="TextsRequestParser"/>), so that malformed JSON,
/// too many texts, tokens or characters, unknown adapters and a full queue all get a JSON error body (400 / 404 / 413 /
/// 429 with Retry-After) naming the problem. The client's going away cancels its queued texts.
/// </summary>
public static class ApiEndpoints
{
    public static IEndpointRouteBuilder MapPeftOnnxApi(this IEndpointRouteBuilder app)
    {
        // Plain request delegates: no handler signature to bind by reflection, so the Native AOT build serves them as is.
        app.MapPost("/v1/classify", context => HandleAsync(context, "classify", Classify));
        app.MapPost("/v1/embed", context => HandleAsync(context, "embed", Embed));
        app.MapGet("/v1/adapters", context =>
        {
            var scorer = context.RequestServices.GetRequiredService<ITextScorer>();
            return Results.Json(scorer is IRoutedTextScorer routed
                ? new AdaptersResponse(scorer.ModelId, routed.DefaultAdapter, routed.Adapters)
                : new AdaptersResponse(scorer.ModelId, null, []), ApiJson.Options.TypeInfo<AdaptersResponse>()).ExecuteAsync(context);
        });
        app.MapGet("/healthz", context => Results.Json(new HealthResponse("alive"), ApiJson.Options.TypeInfo<HealthResponse>()).ExecuteAsync(context));
        app.MapGet("/readyz", context =>
        {
            var readiness = context.RequestServices.GetRequiredService<Readiness>();
            var scorer = context.RequestServices.GetRequiredService<ITextScorer>();
            return (readiness.IsReady
                ? Results.Json(new HealthResponse("ready", scorer.ModelId), ApiJson.Options.TypeInfo<HealthResponse>())
                : Results.Json(new HealthResponse("starting", Pending: readiness.Pending), ApiJson.Options.TypeInfo<HealthResponse>(), statusCode: StatusCodes.Status503ServiceUnavailable))
                .ExecuteAsync(context);
        });
        return app;
    }

    private static async Task HandleAsync(
        HttpContext context, string endpoint, Func<ITextScorer, string?, IReadOnlyList<TextScore>, IResult> respond)
    {
        var started = Stopwatch.GetTimestamp();
        var services = context.RequestServices;
        var metrics = services.GetRequiredService<HostingMetrics>();
        var result = await ProcessAsync(context, endpoint, respond, services);
        var status = result is IStatusCodeHttpResult { StatusCode: { } code } ? code : StatusCodes.Status200OK;
        metrics.RecordRequest(endpoint, status, Stopwatch.GetElapsedTime(started));
        await result.ExecuteAsync(context);
    }

    private static async Task<IResult> ProcessAsync(
        HttpContext context, string endpoint, Func<ITextScorer, string?, IReadOnlyList<TextScore>, IResult> respond,
        IServiceProvider services)
    {
        var limits = services.GetRequiredService<IOptions<HttpApiOptions>>().Value;
        var scorer = services.GetRequiredService<ITextScorer>();
        try
        {
            RequireJson(context.Request);
            var body = await ReadBodyAsync(context.Request, limits.MaxRequestBytes, context.RequestAborted);
            var request = TextsRequestParser.Parse(body.Span, limits);
            if (SelectAdapter(scorer, request.Adapter, out var adapter, out var used) is { } refused)
                return refused;
            var batcher = services.GetRequiredService<MicroBatcher>();
            var scores = await batcher.ScoreAsync(request.Texts, adapter, context.RequestAborted);
            return respond(scorer, used, scores);
        }
        catch (ApiRequestException e)
        {
            if (e.RetryAfter is { } retry)
                context.Response.Headers.RetryAfter = ((int)Math.Ceiling(retry.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            return Error(e.StatusCode, e.Code, e.Message);
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
    /// Only application/json (UTF-8) bodies: the types a browser may post cross-site without asking (text/plain, forms)
    /// are refused before the body is read.
    /// </summary>
    private static void RequireJson(HttpRequest request)
    {
        if (MediaTypeHeaderValue.TryParse(request.ContentType, out var type)
            && type.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            && (type.Charset.Length == 0 || type.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase)))
        {
            return;
        }
        throw new ApiRequestException(StatusCodes.Status415UnsupportedMediaType, "unsupported_media_type",
            $"the body's Content-Type is '{request.ContentType ?? "(none)"}'; send JSON as application/json (UTF-8).");
    }

    /// <summary>The whole body, refused with 413 once it passes <paramref name="maxBytes"/> (Kestrel enforces the same limit).</summary>
    private static async Task<ReadOnlyMemory<byte>> ReadBodyAsync(HttpRequest request, long maxBytes, CancellationToken cancellationToken)
    {
        var tooLarge = new ApiRequestException(StatusCodes.Status413PayloadTooLarge, "body_too_large",
            $"the request body is larger than {maxBytes} bytes (Http:MaxRequestBytes).");
        if (request.ContentLength > maxBytes)
            throw tooLarge;
        using var buffer = new MemoryStream((int)Math.Min(request.ContentLength ?? 4096, maxBytes));
        var chunk = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (buffer.Length + read > maxBytes)
                    throw tooLarge;
                buffer.Write(chunk, 0, read);
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw tooLarge;
        }
        return buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
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
        if (scorer.Tasks is { } tasks)
        {
            var byTask = scores.Select(s => new ClassifyResult(null, null, null, s.Chunks, Tasks: TaskResult.AllOf(s, tasks))).ToArray();
            return Results.Json(new ClassifyResponse(scorer.ModelId, adapter, byTask), ApiJson.Options.TypeInfo<ClassifyResponse>());
        }
        if (scorer.Labels is not { } labels)
            return Error(StatusCodes.Status400BadRequest, "not_a_classifier", $"{scorer.ModelId} is an embedding model; use POST /v1/embed.");
        var results = scores.Select(s => new ClassifyResult(
            s.Label!, s.Score, labels.Select((label, i) => (label, s.Probabilities![i])).ToDictionary(x => x.label, x => x.Item2), s.Chunks, LabelScore.Of(s, labels))).ToArray();
        return Results.Json(new ClassifyResponse(scorer.ModelId, adapter, results), ApiJson.Options.TypeInfo<ClassifyResponse>());
    }

    private static IResult Embed(ITextScorer scorer, string? adapter, IReadOnlyList<TextScore> scores)
    {
        if (scores.Any(s => s.Embedding is null))
            return Error(StatusCodes.Status400BadRequest, "no_embeddings", $"{scorer.ModelId} does not produce embeddings; use POST /v1/classify.");
        return Results.Json(new EmbedResponse(scorer.ModelId, adapter, scores.Select(s => s.Embedding!).ToArray()), ApiJson.Options.TypeInfo<EmbedResponse>());
    }

    private static IResult Error(int status, string code, string message, IReadOnlyList<string>? adapters = null) =>
        Results.Json(ApiError.Of(code, message, adapters), ApiJson.Error, statusCode: status);
}
