using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using PeftOnnx.Hosting.Http;
using PeftOnnx.Hosting.Tests.Support;
using PeftOnnx.Tests;

namespace PeftOnnx.Hosting.Tests.Http;

public sealed class ApiKeyTests : IAsyncLifetime
{
    private const string ConfiguredKey = "configured-key-0123456789abcdef";
    private const string FileKey = "file-key-fedcba9876543210";
    private readonly TempFolder _folder = new("peftonnx-apikeys");
    private ServeHostFixture _host = null!;

    public async Task InitializeAsync()
    {
        var keyFile = _folder.Combine("keys.txt");
        await File.WriteAllTextAsync(keyFile, $"# one key a line\n\n  {FileKey}  \n");
        _host = await ServeHostFixture.StartAsync(new Dictionary<string, string?>
        {
            ["Worker:Scorer"] = "hash",
            ["Http:ApiKeys:0"] = ConfiguredKey,
            ["Http:ApiKeyFile"] = keyFile,
        });
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _folder.Dispose();
    }

    [Theory]
    [InlineData(null, null, "requires an API key")]
    [InlineData("Authorization", "Bearer wrong-key-0123456789abcdef", "not accepted")]
    [InlineData("Authorization", "Basic " + ConfiguredKey, "only the Bearer scheme")]
    [InlineData("X-Api-Key", ConfiguredKey + "x", "not accepted")]
    [InlineData("X-Api-Key", "configured-key", "not accepted")]
    public async Task Requests_without_an_accepted_key_get_401_with_a_json_error(string? header, string? value, string message)
    {
        using var request = Classify();
        if (header is not null)
            request.Headers.TryAddWithoutValidation(header, value);
        var response = await _host.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("unauthorized", body.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains(message, body.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Authorization", "Bearer " + ConfiguredKey)]
    [InlineData("Authorization", "bearer " + FileKey)]
    [InlineData("X-Api-Key", ConfiguredKey)]
    [InlineData("X-Api-Key", FileKey)]
    public async Task A_configured_or_file_key_in_either_header_is_accepted(string header, string value)
    {
        using var request = Classify();
        request.Headers.TryAddWithoutValidation(header, value);
        var response = await _host.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Health_is_open_and_metrics_and_unknown_paths_need_a_key_by_default()
    {
        Assert.Equal(HttpStatusCode.OK, (await _host.Client.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _host.Client.GetAsync("/readyz")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _host.Client.GetAsync("/metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _host.Client.GetAsync("/v1/adapters")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _host.Client.GetAsync("/anything")).StatusCode);

        using var metrics = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        metrics.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ConfiguredKey);
        Assert.Equal(HttpStatusCode.OK, (await _host.Client.SendAsync(metrics)).StatusCode);
    }

    [Fact]
    public async Task OpenHealth_and_OpenMetrics_choose_which_probes_answer_without_a_key()
    {
        await using var host = await ServeHostFixture.StartAsync(new Dictionary<string, string?>
        {
            ["Worker:Scorer"] = "hash",
            ["Http:ApiKeys:0"] = ConfiguredKey,
            ["Http:OpenHealth"] = "false",
            ["Http:OpenMetrics"] = "true",
        });
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.Client.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.Client.GetAsync("/readyz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync("/metrics")).StatusCode);
    }

    [Theory]
    [InlineData("short-key", "9 characters; a key needs at least 16")]
    [InlineData("a key with spaces in it", "contains whitespace")]
    public void A_weak_key_stops_start_up_without_printing_it(string key, string reason)
    {
        var error = Assert.Throws<InvalidOperationException>(() => ServeHost.Build([], new Dictionary<string, string?>
        {
            ["Worker:Scorer"] = "hash",
            ["Urls"] = "http://127.0.0.1:0",
            ["Http:ApiKeys:0"] = key,
        }));
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.Contains("Http:ApiKeys:0", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(key, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_key_file_without_keys_stops_start_up()
    {
        var empty = _folder.Combine("empty.txt");
        File.WriteAllText(empty, "# no keys yet\n");
        var error = Assert.Throws<InvalidOperationException>(() => ServeHost.Build([], new Dictionary<string, string?>
        {
            ["Worker:Scorer"] = "hash",
            ["Urls"] = "http://127.0.0.1:0",
            ["Http:ApiKeyFile"] = empty,
        }));
        Assert.Contains("holds no key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_key_file_that_is_a_fifo_stops_start_up_without_blocking()
    {
        var fifo = SpecialFiles.Fifo(_folder.Combine("keys.fifo"));
        var error = SpecialFiles.Promptly(() => Assert.Throws<InvalidOperationException>(() => ApiKeys.ReadFile(fifo)));
        Assert.Contains("not a regular file (a FIFO)", error.Message, StringComparison.Ordinal);
    }

    private static HttpRequestMessage Classify() =>
        new(HttpMethod.Post, "/v1/classify") { Content = JsonContent.Create(new { texts = new[] { "a text" } }) };
}
