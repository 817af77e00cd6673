using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using PeftOnnx.Hosting.Http;
using PeftOnnx.Hosting.Scoring;
using PeftOnnx.Hosting.Tests.Support;
using PeftOnnx.Runtime.Scoring;

namespace PeftOnnx.Hosting.Tests.Http;

/// <summary>What the HTTP API does when clients give up or send more than the model keeps up with.</summary>
public sealed class HttpAdmissionTests
{
    [Fact]
    public async Task Requests_whose_clients_went_away_are_never_scored()
    {
        await using var host = await ServeHostFixture.StartAsync(new Dictionary<string, string?>
        {
            ["Worker:Scorer"] = "hash",
            ["Worker:HashScorerDelayMs"] = "3000",
            ["Http:MaxBatch"] = "1",
            ["Http:MaxWaitMs"] = "0",
        });
        var scorer = (HashTextScorer)host.Services.GetRequiredService<ITextScorer>();
        var batcher = host.Services.GetRequiredService<MicroBatcher>();
        var first = host.Client.PostAsJsonAsync("/v1/classify", new { texts = new[] { "first" } });
        await Poll.UntilAsync(() => scorer.TextsReceived == 1, TimeSpan.FromSeconds(20), () => "the first request in the model");

        using var impatient = new HttpClient { BaseAddress = host.Client.BaseAddress };
        using var gone = new CancellationTokenSource();
        var abandoned = Enumerable.Range(0, 16)
            .Select(i => impatient.PostAsJsonAsync("/v1/classify", new { texts = new[] { $"abandoned request {i}" } }, gone.Token)).ToArray();
        await Poll.UntilAsync(() => batcher.QueueDepth >= 16, TimeSpan.FromSeconds(20), () => $"16 queued requests (queue depth {batcher.QueueDepth})");
        await gone.CancelAsync();
        foreach (var request in abandoned)
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request);
        // The server notices the closed connections while the model is still busy (3 s) with the first request.
        await Poll.UntilAsync(() => batcher.QueueDepth == 0, TimeSpan.FromSeconds(20), () => $"an empty queue (depth {batcher.QueueDepth})");

        Assert.Equal(HttpStatusCode.OK, (await first).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await host.Client.PostAsJsonAsync("/v1/classify", new { texts = new[] { "after" } })).StatusCode);
        Assert.Equal(2, scorer.TextsReceived);
    }

    [Fact]
    public async Task A_full_queue_answers_429_with_retry_after_and_recovers()
    {
        await using var host = await ServeHostFixture.StartAsync(new Dictionary<string, string?>
        {
            ["Worker:Scorer"] = "hash",
            ["Worker:HashScorerDelayMs"] = "1500",
            ["Http:MaxWaitMs"] = "0",
            // Each request below costs 5 tokens (3 words + [CLS] + [SEP]): one fits the queue, two do not.
            ["Http:MaxTokensPerRequest"] = "8",
            ["Http:MaxQueuedTokens"] = "8",
        });
        var responses = await Task.WhenAll(Enumerable.Range(0, 4)
            .Select(i => host.Client.PostAsJsonAsync("/v1/classify", new { texts = new[] { $"request number {i}" } })));

        Assert.Contains(responses, r => r.StatusCode == HttpStatusCode.OK);
        var refused = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToArray();
        Assert.NotEmpty(refused);
        foreach (var response in refused)
        {
            Assert.InRange(response.Headers.RetryAfter?.Delta ?? TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            var error = body.RootElement.GetProperty("error");
            Assert.Equal("queue_full", error.GetProperty("code").GetString());
            Assert.Contains("the queue holds 8 (Http:MaxQueuedTokens)", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.OK, (await host.Client.PostAsJsonAsync("/v1/classify", new { texts = new[] { "once drained" } })).StatusCode);
    }
}
