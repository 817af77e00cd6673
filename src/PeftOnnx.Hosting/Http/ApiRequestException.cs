namespace PeftOnnx.Hosting.Http;

/// <summary>
/// A request the API refuses, with the status and error code its answer carries: a body that does not parse (400),
/// too many texts or tokens (413), a full queue (429, with <see cref="RetryAfter"/>). The message names the value.
/// </summary>
public sealed class ApiRequestException(int statusCode, string code, string message, TimeSpan? retryAfter = null) : Exception(message)
{
    public int StatusCode { get; } = statusCode;

    /// <summary>The machine-readable reason, e.g. "malformed_json"; the answer's error.code.</summary>
    public string Code { get; } = code;

    /// <summary>When a retry may succeed (429 and 503 only); sent as the Retry-After header.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;
}
