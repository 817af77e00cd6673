using System.Text.RegularExpressions;

namespace PeftOnnx.Core.Adapters.Bottleneck;

/// <summary>
/// One frozen adapter of a composition (a fusion's fused adapters, a stack's lower adapters), as adapter_config.json
/// lists it: its name (its folder under <c>adapters/</c> of the composition's folder) and the sha256 of its
/// adapter_model.safetensors, so a swapped or edited copy is refused.
/// </summary>
public sealed partial record FrozenAdapter(string Name, string Sha256)
{
    /// <summary>Throws unless the name can be a folder name inside the composition's folder and the sha256 is 64 hex digits.</summary>
    public void Validate()
    {
        RequireName(Name);
        if (!Sha256Pattern().IsMatch(Sha256 ?? ""))
            throw new InvalidDataException($"adapter entry {Name} has sha256 \"{Sha256}\"; expected 64 lower-case hex digits");
    }

    /// <summary>Throws unless <paramref name="name"/> is a plain folder name (no separators, no "..").</summary>
    public static void RequireName(string? name)
    {
        if (name is null || !NamePattern().IsMatch(name) || name is "." or "..")
            throw new InvalidDataException($"adapter name \"{name}\" is not a plain folder name (letters, digits, '.', '_', '-'; at most 100)");
    }

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex Sha256Pattern();

    [GeneratedRegex("^[A-Za-z0-9._-]{1,100}$")]
    private static partial Regex NamePattern();
}
