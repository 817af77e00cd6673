using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using PeftOnnx.Hosting.Tests.Support;
using PeftOnnx.Runtime.Adapters;
using PeftOnnx.Runtime.Scoring;
using Xunit.Abstractions;
using static PeftOnnx.Hosting.Tests.Support.SideBundleFixture;
using static PeftOnnx.Tests.ReversedTenant;

namespace PeftOnnx.Hosting.Tests.Http;

/// <summary>`serve --model &lt;side bundle&gt;`: requests pick adapters by name, and one micro-batch serves several adapters.</summary>
[Collection("side-bundle")]
public sealed class SideBundleApiTests(SideBundleFixture bundle, ITestOutputHelper output) : IAsyncLifetime
{
    private ServeHostFixture _host = null!;

    public async Task InitializeAsync() => _host = await ServeHostFixture.StartAsync(new Dictionary<string, string?>
    {
        ["Worker:Model"] = bundle.Directory,
        ["Worker:Device"] = "cpu",
        // One micro-batch takes all six texts: it closes when full, well before the wait runs out.
        ["Http:MaxBatch"] = $"{Texts.Length}",
        ["Http:MaxWaitMs"] = "5000",
    });

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Requests_naming_different_adapters_share_a_batch_and_match_each_adapter_scored_alone()
    {
        var scorer = Assert.IsType<SideTextScorer>(_host.Services.GetService(typeof(ITextScorer)));
        string[] adapters = [.. Texts.Select((_, i) => i % 2 == 0 ? Primary : Reversed)];

        var responses = await Task.WhenAll(Texts.Select((text, i) =>
            _host.Client.PostAsJsonAsync("/v1/classify", new { texts = new[] { text }, adapter = adapters[i] })));
        var (grouped, mixed) = scorer.Strategy.Rates;
        Assert.True(grouped + mixed > 0, "no scorer call held more than one adapter: the requests were not batched together");

        var alone = new Dictionary<string, IReadOnlyList<TextScore>>
        {
            [Primary] = scorer.Score(Texts, [.. Texts.Select(_ => Primary)]),
            [Reversed] = scorer.Score(Texts, [.. Texts.Select(_ => Reversed)]),
        };
        var labels = scorer.Labels!;
        double worst = 0;
        for (var i = 0; i < Texts.Length; i++)
        {
            Assert.Equal(HttpStatusCode.OK, responses[i].StatusCode);
            using var body = JsonDocument.Parse(await responses[i].Content.ReadAsStringAsync());
            Assert.Equal(adapters[i], body.RootElement.GetProperty("adapter").GetString());
            var result = Assert.Single(body.RootElement.GetProperty("results").EnumerateArray());
            var expected = alone[adapters[i]][i];
            Assert.Equal(expected.Label, result.GetProperty("label").GetString());
            for (var l = 0; l < labels.Count; l++)
                worst = Math.Max(worst, Math.Abs(expected.Probabilities![l] - result.GetProperty("probabilities").GetProperty(labels[l]).GetSingle()));
        }
        output.WriteLine($"batched over two adapters vs each adapter alone: max abs probability difference {worst:E2}");
        Assert.True(worst <= 1e-5, $"{worst:E2}");

        // The two adapters really differ: the reversed head gives the reversed probabilities.
        for (var l = 0; l < labels.Count; l++)
            Assert.Equal(alone[Primary][0].Probabilities![l], alone[Reversed][0].Probabilities![labels.Count - 1 - l], 4);
    }

    [Fact]
    public async Task An_adapter_whose_scores_overflow_fails_its_request_with_a_json_reason_and_a_nan_adapter_is_refused_at_load()
    {
        var scorer = Assert.IsType<SideTextScorer>(_host.Services.GetService(typeof(ITextScorer)));
        bundle.PrimaryOverflowing().Save(bundle.AdapterPath("overflowing"));
        bundle.PrimaryWithNaN().Save(bundle.AdapterPath("nan"));
        try
        {
            await Poll.UntilAsync(() => scorer.Adapters.Contains("overflowing"), TimeSpan.FromSeconds(10), () => "the overflowing adapter was not loaded");
            var requests = new[] { "overflowing", Primary }.Select(a => _host.Client.PostAsJsonAsync("/v1/classify", new { texts = new[] { Texts[0] }, adapter = a })).ToList();
            var (bad, good) = (await requests[0], await requests[1]);
            var body = await bad.Content.ReadAsStringAsync();
            output.WriteLine($"{(int)bad.StatusCode} {body}");
            Assert.Equal(HttpStatusCode.InternalServerError, bad.StatusCode);
            using (var error = JsonDocument.Parse(body))
                Assert.Contains("are not finite", error.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.OK, good.StatusCode);

            var refused = await _host.Client.PostAsJsonAsync("/v1/classify", new { texts = new[] { Texts[0] }, adapter = "nan" });
            var reason = await refused.Content.ReadAsStringAsync();
            output.WriteLine($"{(int)refused.StatusCode} {reason}");
            Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
            Assert.DoesNotContain("nan", scorer.Adapters); // refused by the registry, with its reason logged (AdapterRegistryTests)
        }
        finally
        {
            File.Delete(bundle.AdapterPath("overflowing"));
            File.Delete(bundle.AdapterPath("nan"));
            await Poll.UntilAsync(() => !scorer.Adapters.Contains("overflowing"), TimeSpan.FromSeconds(10), () => "the overflowing adapter was not unloaded");
        }
    }

    [Fact]
    public async Task An_unknown_adapter_gets_404_listing_the_loaded_adapters()
    {
        var response = await _host.Client.PostAsJsonAsync("/v1/classify", new { texts = new[] { "a text" }, adapter = "globex" });
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = body.RootElement.GetProperty("error");
        Assert.Equal("unknown_adapter", error.GetProperty("code").GetString());
        var names = error.GetProperty("adapters").EnumerateArray().Select(a => a.GetString()).ToList();
        Assert.Contains(Primary, names);
        Assert.Contains(Reversed, names);
        Assert.Contains(Reversed, error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_default_adapter_a_mixed_classifier_needs_the_request_to_name_one()
    {
        var response = await _host.Client.PostAsJsonAsync("/v1/classify", new { texts = new[] { "a text" } });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("adapter_required", body.RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task Adapters_are_listed_and_one_dropped_into_the_folder_is_served_without_a_restart()
    {
        var listed = await _host.Client.GetFromJsonAsync<JsonElement>("/v1/adapters");
        Assert.Equal(JsonValueKind.Null, listed.GetProperty("default_adapter").ValueKind);
        Assert.Equal(new List<string?> { Primary, Reversed }, listed.GetProperty("adapters").EnumerateArray().Select(a => a.GetString()).ToList());

        File.Copy(bundle.AdapterPath(Reversed), bundle.AdapterPath("tenant3"));
        try
        {
            await Poll.UntilAsync(() => Names().Contains("tenant3"), TimeSpan.FromSeconds(30), () => "tenant3 in GET /v1/adapters");
            // Six texts fill the micro-batch, so it is scored at once.
            var response = await _host.Client.PostAsJsonAsync("/v1/classify", new { texts = Texts, adapter = "tenant3" });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        finally
        {
            File.Delete(bundle.AdapterPath("tenant3"));
        }

        List<string?> Names() => [.. _host.Client.GetFromJsonAsync<JsonElement>("/v1/adapters").GetAwaiter().GetResult()
            .GetProperty("adapters").EnumerateArray().Select(a => a.GetString())];
    }
}
