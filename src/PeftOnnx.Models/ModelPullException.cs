namespace PeftOnnx.Models;

/// <summary>A pull that could not complete (package not found, no network, hash mismatch); nothing was written.</summary>
public sealed class ModelPullException : Exception
{
    public ModelPullException(string message)
        : base(message)
    {
    }

    public ModelPullException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
