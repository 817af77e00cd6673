namespace PeftOnnx.Hosting.Http;

/// <summary>The "Http" configuration section: request limits, micro-batching, admission and API keys of the HTTP API.</summary>
public sealed class HttpApiOptions
{
    public const string Section = "Http";

    /// <summary>Serve the HTTP API (bound by the standard "Urls" key; default http://127.0.0.1:5080).</summary>
    public bool Enabled { get; set; } = true;
    /// <summary>Texts per model call when concurrent requests are combined.</summary>
    public int MaxBatch { get; set; } = 32;
    /// <summary>Tokens per model call: a micro-batch closes when the next text would pass this (a bigger text goes alone).</summary>
    public int MaxBatchTokens { get; set; } = 8192;
    /// <summary>How long the first text of a micro-batch waits for company.</summary>
    public int MaxWaitMs { get; set; } = 2;
    /// <summary>More texts in one request are answered with 413.</summary>
    public int MaxTextsPerRequest { get; set; } = 64;
    /// <summary>A longer text is answered with 413.</summary>
    public int MaxCharsPerText { get; set; } = 100_000;
    /// <summary>A request whose texts tokenize to more tokens (all windows, specials included) is answered with 413.</summary>
    public int MaxTokensPerRequest { get; set; } = 8192;
    /// <summary>Tokens waiting for the model; a request that would pass this is answered with 429 and Retry-After.</summary>
    public int MaxQueuedTokens { get; set; } = 65_536;
    /// <summary>Request bodies larger than this are refused by the server with 413.</summary>
    public long MaxRequestBytes { get; set; } = 16 * 1024 * 1024;
    /// <summary>Accepted API keys (with <see cref="ApiKeyFile"/>'s); none: the API is open to whoever can reach it.</summary>
    public string[] ApiKeys { get; set; } = [];
    /// <summary>A file of API keys, one a line (`serve --api-key-file`).</summary>
    public string? ApiKeyFile { get; set; }
    /// <summary>With API keys: /healthz and /readyz answer without a key (probes carry none; they tell only alive/ready and the model id).</summary>
    public bool OpenHealth { get; set; } = true;
    /// <summary>With API keys: /metrics answers without a key (off: it tells traffic and error counts; scrapers can send a bearer key).</summary>
    public bool OpenMetrics { get; set; }

    public void Validate()
    {
        if (MaxBatch < 1 || MaxBatchTokens < 1)
            throw new InvalidOperationException($"Http:MaxBatch ({MaxBatch}) and Http:MaxBatchTokens ({MaxBatchTokens}) should be at least 1.");
        if (MaxWaitMs < 0)
            throw new InvalidOperationException($"Http:MaxWaitMs should not be negative, got {MaxWaitMs}.");
        if (MaxTextsPerRequest < 1 || MaxCharsPerText < 1 || MaxTokensPerRequest < 1)
            throw new InvalidOperationException(
                $"Http:MaxTextsPerRequest ({MaxTextsPerRequest}), Http:MaxCharsPerText ({MaxCharsPerText}) and Http:MaxTokensPerRequest ({MaxTokensPerRequest}) should be positive.");
        if (MaxQueuedTokens < MaxTokensPerRequest)
            throw new InvalidOperationException(
                $"Http:MaxQueuedTokens ({MaxQueuedTokens}) should be at least Http:MaxTokensPerRequest ({MaxTokensPerRequest}), or the largest allowed request could never queue.");
    }
}
