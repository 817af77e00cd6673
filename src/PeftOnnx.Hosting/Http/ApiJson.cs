using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using PeftOnnx.Core.Json;
using PeftOnnx.Hosting.Outbox;

namespace PeftOnnx.Hosting.Http;

/// <summary>
/// The API's JSON: the result records' snake_case, with relaxed escaping so messages read as written ("quoted", not
/// \u0022quoted\u0022). Answers are application/json, never HTML, so the HTML-safe escaping buys nothing.
/// </summary>
internal static class ApiJson
{
    public static JsonSerializerOptions Options { get; } = new(ResultJson.Compact) { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static JsonTypeInfo<ApiError> Error { get; } = Options.TypeInfo<ApiError>();
}
