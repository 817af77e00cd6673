namespace PeftOnnx.Runtime.Adapters;

/// <summary>A run asked for an adapter the registry does not serve; the message lists what it does serve and why a file was refused.</summary>
public sealed class AdapterNotFoundException : KeyNotFoundException
{
    public AdapterNotFoundException()
    {
    }

    public AdapterNotFoundException(string message) : base(message)
    {
    }

    public AdapterNotFoundException(string message, Exception inner) : base(message, inner)
    {
    }
}
