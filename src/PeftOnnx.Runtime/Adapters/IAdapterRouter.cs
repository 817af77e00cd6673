namespace PeftOnnx.Runtime.Adapters;

/// <summary>Chooses the adapter for a document.</summary>
public interface IAdapterRouter
{
    /// <summary>The adapter for <paramref name="documentPath"/>, or null for the default adapter.</summary>
    string? Route(string documentPath);
}
