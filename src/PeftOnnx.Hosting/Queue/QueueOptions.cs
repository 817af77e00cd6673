namespace PeftOnnx.Hosting.Queue;

/// <summary>The "Queue" configuration section: scale-out over one Redis Streams consumer group.</summary>
public sealed class QueueOptions
{
    public const string Section = "Queue";

    /// <summary>StackExchange.Redis connection string (e.g. "127.0.0.1:6379"); empty: no queue consumer.</summary>
    public string? Redis { get; set; }
    public string Stream { get; set; } = "peftonnx:jobs";
    public string Group { get; set; } = "peftonnx-workers";
    /// <summary>This worker's consumer name (default: host name + process id).</summary>
    public string? Consumer { get; set; }
    /// <summary>Jobs pending longer than this on another consumer are taken over (XAUTOCLAIM): that worker is presumed dead.</summary>
    public int ClaimIdleSeconds { get; set; } = 60;
    /// <summary>Jobs fetched per XREADGROUP.</summary>
    public int ReadCount { get; set; } = 32;
    /// <summary>Deliveries of one job before it is dead-lettered (copied to <see cref="DeadStream"/> with the reason) and acknowledged.</summary>
    public int MaxDeliveries { get; set; } = 5;
    /// <summary>Where jobs that cannot be scored go, with the reason: malformed jobs, unsafe ids, unscorable documents, too many deliveries.</summary>
    public string DeadStream { get; set; } = "peftonnx:dead";

    public bool Enabled => !string.IsNullOrWhiteSpace(Redis);

    public string ConsumerName => Consumer ?? $"{Environment.MachineName}-{Environment.ProcessId}";
}
