using System.Net.Http.Json;
using System.Text.Json;
using PeftOnnx.Hosting.Tests.Support;
using static PeftOnnx.Hosting.Tests.Support.SideBundleFixture;

namespace PeftOnnx.Hosting.Tests.Http;

/// <summary>Start-up of `serve` with a side-graph bundle: the default adapter, and what inbox documents need.</summary>
[Collection("side-bundle")]
public sealed class SideBundleServeTests(SideBundleFixture bundle) : IDisposable
{
    private readonly TempFolder _temp = new("side-serve");

    [Fact]
    public async Task The_default_adapter_scores_requests_that_name_none_and_is_reported()
    {
        await using var host = await ServeHostFixture.StartAsync(new Dictionary<string, string?>
        {
            ["Worker:Model"] = bundle.Directory,
            ["Worker:Device"] = "cpu",
            ["Worker:Adapter"] = Reversed,
        });
        var response = await host.Client.PostAsJsonAsync("/v1/classify", new { texts = new[] { "A video player with subtitles." } });
        response.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(Reversed, body.RootElement.GetProperty("adapter").GetString());
        Assert.Equal(Reversed, (await host.Client.GetFromJsonAsync<JsonElement>("/v1/adapters")).GetProperty("default_adapter").GetString());
    }

    [Fact]
    public void Inbox_documents_need_a_default_adapter_and_an_unknown_one_is_refused_at_start()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Worker:Model"] = bundle.Directory,
            ["Worker:Device"] = "cpu",
            ["Worker:Inbox:0"] = _temp.Combine("inbox"),
            ["Worker:Outbox"] = _temp.Combine("outbox"),
            ["Urls"] = "http://127.0.0.1:0",
        };
        var noDefault = Assert.Throws<InvalidOperationException>(() => ServeHost.Build([], settings));
        Assert.Contains("Worker:Adapter", noDefault.Message, StringComparison.Ordinal);

        settings["Worker:Adapter"] = "globex";
        var unknown = Assert.Throws<InvalidOperationException>(() => ServeHost.Build([], settings));
        Assert.Contains(Primary, unknown.Message, StringComparison.Ordinal);
    }

    public void Dispose() => _temp.Dispose();
}
