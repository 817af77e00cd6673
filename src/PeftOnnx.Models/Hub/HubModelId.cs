using System.Text.RegularExpressions;

namespace PeftOnnx.Models.Hub;

/// <summary><c>hf:ORG/NAME[@REVISION]</c>: a Hugging Face Hub model and the branch, tag or commit to pull (main by default).</summary>
public sealed partial record HubModelId(string Repo, string Revision)
{
    public const string Scheme = "hf:";

    public static bool IsHubReference(string value) => value?.StartsWith(Scheme, StringComparison.Ordinal) == true;

    public static HubModelId Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var match = Pattern().Match(value);
        if (!match.Success)
            throw new ArgumentException($"'{value}' is not a Hub model reference; write hf:ORG/NAME or hf:ORG/NAME@REVISION (e.g. hf:BAAI/bge-small-en-v1.5@main).", nameof(value));
        var revision = match.Groups["rev"].Success ? match.Groups["rev"].Value : "main";
        if (revision.Split('/').Any(part => part is "" or "." or ".."))
            throw new ArgumentException($"Revision '{revision}' in '{value}' is not a branch, tag or commit name.", nameof(value));
        return new HubModelId(match.Groups["repo"].Value, revision);
    }

    /// <summary>NAME, the last part of the id: the default local model name.</summary>
    public string Name => Repo[(Repo.IndexOf('/') + 1)..];

    /// <summary>The cache folder name (models--ORG--NAME, as the Hub's own cache spells it).</summary>
    public string CacheName => "models--" + Repo.Replace("/", "--", StringComparison.Ordinal);

    public override string ToString() => $"{Scheme}{Repo}@{Revision}";

    [GeneratedRegex(@"^hf:(?<repo>[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95})(@(?<rev>[A-Za-z0-9._/-]{1,200}))?$")]
    private static partial Regex Pattern();
}
