using System.Text;
using System.Text.Json.Nodes;
using CsCheck;
using PeftOnnx.Fuzz.Targets;
using PeftOnnx.Hosting.Http;

namespace PeftOnnx.Fuzz.Tests;

/// <summary>Generated request bodies: well-formed ones carry their texts through; any other shape is the format error.</summary>
public sealed class HttpBodyPropertyTests
{
    [Fact]
    public void Well_formed_bodies_carry_their_texts_exactly()
    {
        Gen.Select(JsonGen.AwkwardString.Array[1, 6], JsonGen.AwkwardString.Null()).Sample((texts, adapter) =>
        {
            var body = new JsonObject
            {
                ["texts"] = new JsonArray([.. texts.Select(t => (JsonNode?)JsonValue.Create(t))]),
                ["adapter"] = adapter,
            };
            var request = TextsRequestParser.Parse(Encoding.UTF8.GetBytes(body.ToJsonString()), new HttpApiOptions());
            Assert.Equal(texts, request.Texts);
            Assert.Equal(adapter, request.Adapter);
        }, iter: 1000, threads: 1);
    }

    [Fact]
    public void Any_body_shape_ends_in_a_request_or_the_format_error()
    {
        var target = new HttpBodyTarget();
        JsonGen.ObjectOf(["texts", "adapter", "extra"]).Sample(json =>
        {
            var outcome = target.Check(Encoding.UTF8.GetBytes(json.ToJsonString()));
            Assert.False(outcome.IsCrash, outcome.Error?.ToString());
        }, iter: 3000, threads: 1);
    }
}
