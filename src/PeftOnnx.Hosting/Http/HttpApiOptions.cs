namespace PeftOnnx.Hosting.Http;

/// <summary>The "Http" configuration section: request limits and micro-batching of the HTTP API.</summary>
public sealed class HttpApiOptions
{
    public const string Section = "Http";

    /// <summary>Serve the HTTP API (bound by the standard "Urls" key; default http://127.0.0.1:5080).</summary>
    public bool Enabled { get; set; } = true;
    /// <summary>Texts per model call when concurrent requests are combined.</summary>
    public int MaxBatch { get; set; } = 32;
    /// <summary>How long the first text of a micro-batch waits for company.</summary>
    public int MaxWaitMs { get; set; } = 2;
    /// <summary>More texts in one request are answered with 413.</summary>
    public int MaxTextsPerRequest { get; set; } = 64;
    /// <summary>A longer text is answered with 413.</summary>
    public int MaxCharsPerText { get; set; } = 100_000;
    /// <summary>Request bodies larger than this are refused by the server with 413.</summary>
    public long MaxRequestBytes { get; set; } = 16 * 1024 * 1024;

    public void Validate()
    {
        if (MaxBatch < 1)
            throw new InvalidOperationException($"Http:MaxBatch should be at least 1, got {MaxBatch}.");
        if (MaxWaitMs < 0)
            throw new InvalidOperationException($"Http:MaxWaitMs should not be negative, got {MaxWaitMs}.");
        if (MaxTextsPerRequest < 1 || MaxCharsPerText < 1)
            throw new InvalidOperationException($"Http:MaxTextsPerRequest ({MaxTextsPerRequest}) and Http:MaxCharsPerText ({MaxCharsPerText}) should be positive.");
    }
}
