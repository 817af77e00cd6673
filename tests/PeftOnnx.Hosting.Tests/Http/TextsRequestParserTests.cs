using System.Text;
using PeftOnnx.Hosting.Http;

namespace PeftOnnx.Hosting.Tests.Http;

public sealed class TextsRequestParserTests
{
    private static readonly HttpApiOptions Limits = new() { MaxTextsPerRequest = 4, MaxCharsPerText = 10 };

    [Fact]
    public void A_valid_body_gives_its_texts_and_adapter()
    {
        var request = TextsRequestParser.Parse("{\"texts\": [\"one\", \"two \\u00e9\"], \"adapter\": \"acme\"}"u8, Limits);
        Assert.Equal(["one", "two é"], request.Texts);
        Assert.Equal("acme", request.Adapter);
    }

    [Theory]
    [InlineData(new byte[] { (byte)'{', (byte)'"', (byte)'t', (byte)'e', (byte)'x', (byte)'t', (byte)'s', (byte)'"', (byte)':', (byte)'[', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)']', (byte)'}' }, "malformed_json")]
    [InlineData(new byte[] { 0xFF, 0xFE, (byte)'{', 0, (byte)'}', 0 }, "malformed_json")]
    [InlineData(new byte[0], "malformed_json")]
    public void Bytes_that_are_not_utf8_json_are_a_400(byte[] body, string code)
    {
        var error = Assert.Throws<ApiRequestException>(() => TextsRequestParser.Parse(body, Limits));
        Assert.Equal(400, error.StatusCode);
        Assert.Equal(code, error.Code);
    }

    [Theory]
    [InlineData("null", 400, "no_texts")]
    [InlineData("42", 400, "malformed_json")]
    [InlineData("[\"a\"]", 400, "malformed_json")]
    [InlineData("{\"texts\": \"a\"}", 400, "malformed_json")]
    [InlineData("{\"texts\": [1]}", 400, "malformed_json")]
    [InlineData("{\"texts\": [[\"a\"]]}", 400, "malformed_json")]
    [InlineData("{\"texts\": [\"\\ud800\"]}", 400, "malformed_json")]
    [InlineData("{\"texts\": [\"a\"], \"adapter\": 7}", 400, "malformed_json")]
    [InlineData("{\"texts\": [\"a\"]} trailing", 400, "malformed_json")]
    [InlineData("{\"texts\": [\"a\", \"b\", \"c\", \"d\", \"e\"]}", 413, "too_many_texts")]
    [InlineData("{\"texts\": [\"a\", \"eleven char\"]}", 413, "text_too_long")]
    [InlineData("{\"texts\": [null]}", 400, "null_text")]
    public void Bodies_that_are_not_a_texts_request_are_refused_with_a_named_reason(string json, int status, string code)
    {
        var error = Assert.Throws<ApiRequestException>(() => TextsRequestParser.Parse(Encoding.UTF8.GetBytes(json), Limits));
        Assert.Equal(status, error.StatusCode);
        Assert.Equal(code, error.Code);
    }

    [Fact]
    public void Deep_nesting_is_a_400_not_a_stack_overflow()
    {
        var body = "{\"texts\": [\"a\"], \"extra\": " + new string('[', 100_000) + new string(']', 100_000) + "}";
        var error = Assert.Throws<ApiRequestException>(() => TextsRequestParser.Parse(Encoding.UTF8.GetBytes(body), Limits));
        Assert.Equal("malformed_json", error.Code);
    }
}
