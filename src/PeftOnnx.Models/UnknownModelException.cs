namespace PeftOnnx.Models;

/// <summary>A model name that has no models/&lt;name&gt;/model.json; carries the names that do exist.</summary>
public sealed class UnknownModelException : Exception
{
    public UnknownModelException(string name, IReadOnlyList<string> knownNames, string message)
        : base(message)
    {
        Name = name;
        KnownNames = knownNames;
    }

    public string Name { get; }

    public IReadOnlyList<string> KnownNames { get; }
}
