namespace PeftOnnx.Runtime.Adapters;

/// <summary>
/// Routes by folder: a document under &lt;root&gt;/&lt;name&gt;/... is scored with adapter &lt;name&gt; (the first folder below
/// the scored root), e.g. inbox/acme/a.txt with adapter "acme". Documents directly in a root, or under a folder that
/// names no adapter the registry serves, get the default adapter (null).
/// </summary>
public sealed class FolderAdapterRouter(IEnumerable<string> roots, Func<string, bool> isServed) : IAdapterRouter
{
    private readonly string[] _roots = [.. roots.Select(r => Path.GetFullPath(r).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar)];

    public string? Route(string documentPath)
    {
        ArgumentNullException.ThrowIfNull(documentPath);
        var full = Path.GetFullPath(documentPath);
        foreach (var root in _roots)
        {
            if (!full.StartsWith(root, StringComparison.Ordinal))
                continue;
            var relative = full[root.Length..];
            var slash = relative.IndexOf(Path.DirectorySeparatorChar, StringComparison.Ordinal);
            if (slash > 0 && isServed(relative[..slash]))
                return relative[..slash];
        }
        return null;
    }
}
