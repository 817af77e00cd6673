using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using PeftOnnx.Hosting.Scoring;
using PeftOnnx.Hosting.Tests.Support;

namespace PeftOnnx.Hosting.Tests.Http;

public sealed class HttpApiTests : IAsyncLifetime
{
    private ServeHostFixture _host = null!;

    public async Task InitializeAsync() => _host = await ServeHostFixture.StartAsync(new Dictionary<string, string?>
    {
        ["Worker:Scorer"] = "hash",
        ["Http:MaxTextsPerRequest"] = "4",
        ["Http:MaxCharsPerText"] = "100",
        ["Http:MaxRequestBytes"] = "4096",
        // The hash scorer counts words + 2: four 5-word texts are 28 tokens.
        ["Http:MaxTokensPerRequest"] = "20",
    });

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Classify_returns_the_scorers_labels_and_probabilities_for_each_text()
    {
        var response = await _host.Client.PostAsJsonAsync("/v1/classify", new { texts = new[] { "first text", "second text" } });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var results = body.RootElement.GetProperty("results");
        Assert.Equal(2, results.GetArrayLength());
        var expected = new HashTextScorer(HashTextScorer.DefaultLabels, TimeSpan.Zero).Score(["first text", "second text"]);
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(expected[i].Label, results[i].GetProperty("label").GetString());
            Assert.Equal(expected[i].Score, results[i].GetProperty("score").GetSingle());
            Assert.Equal(1f, results[i].GetProperty("probabilities").EnumerateObject().Sum(p => p.Value.GetSingle()), 4);
        }
        Assert.Equal("hash-scorer/2", body.RootElement.GetProperty("model_id").GetString());
    }

    [Fact]
    public async Task Embed_returns_one_vector_per_text()
    {
        var response = await _host.Client.PostAsJsonAsync("/v1/embed", new { texts = new[] { "a", "b", "c" } });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(3, body.RootElement.GetProperty("embeddings").GetArrayLength());
    }

    [Theory]
    [InlineData("{\"texts\": [\"unterminated", 400, "malformed_json")]
    [InlineData("not json at all", 400, "malformed_json")]
    [InlineData("{\"texts\": []}", 400, "no_texts")]
    [InlineData("{\"other\": 1}", 400, "no_texts")]
    [InlineData("{\"texts\": [\"a\", null]}", 400, "null_text")]
    [InlineData("{\"texts\": [\"a\",\"b\",\"c\",\"d\",\"e\"]}", 413, "too_many_texts")]
    [InlineData("{\"texts\": [\"a\"], \"adapter\": \"nope\"}", 404, "unknown_adapter")]
    public async Task Bad_requests_get_a_json_error_body(string json, int status, string code)
    {
        var response = await _host.Client.PostAsync("/v1/classify", new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.Equal(status, (int)response.StatusCode);
        var raw = await response.Content.ReadAsStringAsync();
        using var body = JsonDocument.Parse(raw);
        Assert.Equal(code, body.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.False(string.IsNullOrEmpty(body.RootElement.GetProperty("error").GetProperty("message").GetString()));
        Assert.DoesNotContain("\\u0022", raw, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("multipart/form-data; boundary=x")]
    [InlineData("application/json; charset=utf-16")]
    [InlineData(null)]
    public async Task Bodies_that_are_not_application_json_get_415(string? contentType)
    {
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes("{\"texts\": [\"a\"]}"));
        if (contentType is not null)
            content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        var response = await _host.Client.PostAsync("/v1/classify", content);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        var raw = await response.Content.ReadAsStringAsync();
        using var body = JsonDocument.Parse(raw);
        Assert.Equal("unsupported_media_type", body.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains($"'{contentType ?? "(none)"}'", raw, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_request_over_the_token_limit_gets_413_naming_the_limit()
    {
        var texts = Enumerable.Repeat("one two three four five", 4).ToArray();
        var response = await _host.Client.PostAsJsonAsync("/v1/classify", new { texts });
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = body.RootElement.GetProperty("error");
        Assert.Equal("too_many_tokens", error.GetProperty("code").GetString());
        Assert.Contains("the limit is 20 per request (Http:MaxTokensPerRequest)", error.GetProperty("message").GetString(), StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.OK, (await _host.Client.PostAsJsonAsync("/v1/classify", new { texts = texts[..2] })).StatusCode);
    }

    [Theory]
    [InlineData("GET", "/v1/nothing", 404, "not_found")]
    [InlineData("GET", "/v1/classify", 405, "method_not_allowed")]
    public async Task Requests_no_endpoint_answers_get_a_json_error_body(string method, string path, int status, string code)
    {
        var response = await _host.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(code, body.RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task An_exception_that_escapes_an_endpoint_gets_500_with_a_json_body()
    {
        await using var app = ServeHost.Build([], new Dictionary<string, string?> { ["Worker:Scorer"] = "hash", ["Urls"] = "http://127.0.0.1:0" });
        app.MapGet("/v1/throws", (Func<string>)(() => throw new InvalidOperationException("the \"model\" broke")));
        await app.StartAsync();
        using var client = new HttpClient { BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()) };
        var response = await client.GetAsync("/v1/throws");
        await app.StopAsync();

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        var raw = await response.Content.ReadAsStringAsync();
        using var body = JsonDocument.Parse(raw);
        Assert.Equal("internal_error", body.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains("the \\\"model\\\" broke", raw, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_merged_bundle_accepts_only_its_own_model_id_as_adapter_and_lists_no_adapters()
    {
        var own = await _host.Client.PostAsJsonAsync("/v1/classify", new { texts = new[] { "a" }, adapter = "hash-scorer/2" });
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        using (var body = JsonDocument.Parse(await own.Content.ReadAsStringAsync()))
            Assert.Equal("hash-scorer/2", body.RootElement.GetProperty("adapter").GetString());

        var none = await _host.Client.PostAsJsonAsync("/v1/embed", new { texts = new[] { "a" } });
        using (var body = JsonDocument.Parse(await none.Content.ReadAsStringAsync()))
            Assert.Equal(JsonValueKind.Null, body.RootElement.GetProperty("adapter").ValueKind);

        var other = await _host.Client.PostAsJsonAsync("/v1/classify", new { texts = new[] { "a" }, adapter = "acme" });
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        using (var body = JsonDocument.Parse(await other.Content.ReadAsStringAsync()))
        {
            var error = body.RootElement.GetProperty("error");
            Assert.Equal("unknown_adapter", error.GetProperty("code").GetString());
            Assert.Equal(0, error.GetProperty("adapters").GetArrayLength());
            Assert.Contains("hash-scorer/2", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        }

        var listed = await _host.Client.GetFromJsonAsync<JsonElement>("/v1/adapters");
        Assert.Equal("hash-scorer/2", listed.GetProperty("model_id").GetString());
        Assert.Equal(0, listed.GetProperty("adapters").GetArrayLength());
    }

    [Fact]
    public async Task Too_long_texts_and_too_large_bodies_get_413()
    {
        var longText = await _host.Client.PostAsJsonAsync("/v1/classify", new { texts = new[] { new string('x', 101) } });
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, longText.StatusCode);
        Assert.Contains("101 characters", await longText.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var huge = await _host.Client.PostAsync("/v1/classify", new StringContent($"{{\"texts\": [\"{new string('y', 8000)}\"]}}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, huge.StatusCode);
        using var body = JsonDocument.Parse(await huge.Content.ReadAsStringAsync());
        Assert.Equal("body_too_large", body.RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task Health_readiness_and_prometheus_metrics_are_served()
    {
        Assert.Equal(HttpStatusCode.OK, (await _host.Client.GetAsync("/healthz")).StatusCode);
        var ready = await _host.Client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Contains("hash-scorer/2", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        await _host.Client.PostAsJsonAsync("/v1/classify", new { texts = new[] { "counted" } });
        await _host.Client.PostAsync("/v1/classify", new StringContent("{", Encoding.UTF8, "application/json"));
        string metrics = "";
        // The exporter caches a scrape briefly; poll until the requests above show up.
        await Poll.UntilAsync(() =>
        {
            metrics = _host.Client.GetStringAsync("/metrics").GetAwaiter().GetResult();
            return metrics.Contains("status=\"400\"", StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(20), () => "the 400 request in /metrics", 300);
        Assert.Contains("peftonnx_http_requests_total{", metrics, StringComparison.Ordinal);
        Assert.Contains("peftonnx_http_request_duration_seconds_bucket{", metrics, StringComparison.Ordinal);
        Assert.Contains("peftonnx_batch_size_bucket{", metrics, StringComparison.Ordinal);
        Assert.Contains("peftonnx_queue_depth", metrics, StringComparison.Ordinal);
        Assert.Contains("service_name=\"peftonnx\"", metrics, StringComparison.Ordinal);
        Assert.Contains("service_version=\"", metrics, StringComparison.Ordinal);
        Assert.DoesNotContain("unknown_service", metrics, StringComparison.Ordinal);
    }
}
