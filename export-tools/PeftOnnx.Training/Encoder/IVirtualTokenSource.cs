namespace PeftOnnx.Training.Encoder;

/// <summary>A trainable source of virtual tokens (prompt tuning, prefix tuning), expanded to a batch.</summary>
public interface IVirtualTokenSource
{
    VirtualTokens Create(long batchSize);
}
