namespace PeftOnnx.Hosting.Worker;

/// <summary>
/// Document ids: a document's path relative to the folder it was found in, with '/' separators. Ids also arrive from
/// queue messages, so every writer that turns an id into a file name goes through <see cref="PathUnder"/>.
/// </summary>
public static class DocumentIds
{
    /// <summary>Longest id accepted, in characters (a file name is at most 255 bytes; a path a few thousand).</summary>
    public const int MaxLength = 1024;

    public static string For(string root, string path) =>
        Path.GetRelativePath(root, path).Replace(Path.DirectorySeparatorChar, '/');

    /// <summary>Why <paramref name="docId"/> cannot name a file under a folder, or null when it can.</summary>
    public static string? Problem(string docId)
    {
        if (docId.Length == 0)
            return "it is empty";
        if (docId.Length > MaxLength)
            return $"it is {docId.Length:N0} characters long (at most {MaxLength:N0})";
        if (docId.Any(char.IsControl))
            return "it contains a control character";
        var relative = docId.Replace('\\', '/');
        if (relative.StartsWith('/') || Path.IsPathRooted(docId))
            return "it is an absolute path";
        foreach (var part in relative.Split('/'))
        {
            if (part is "" or "." or "..")
                return part.Length == 0 ? "it has an empty path segment" : $"it has a '{part}' segment";
            if (System.Text.Encoding.UTF8.GetByteCount(part) > 200)
                return $"its segment '{part[..40]}...' is longer than 200 bytes";
        }
        return null;
    }

    /// <summary>
    /// The path for <paramref name="docId"/> under <paramref name="root"/> with <paramref name="suffix"/> appended
    /// (backslashes count as separators). Throws <see cref="ArgumentException"/> naming the id when it is not a plain
    /// relative path, so nothing derived from data is ever written outside <paramref name="root"/>.
    /// </summary>
    public static string PathUnder(string root, string docId, string suffix = "")
    {
        if (Problem(docId) is { } problem)
            throw new ArgumentException($"document id '{Shorten(docId)}' cannot name a file: {problem}. Ids are relative paths such as 'sub/doc.txt'.", nameof(docId));
        if (suffix.AsSpan().IndexOfAny('/', '\\') >= 0 || suffix.Any(char.IsControl))
            throw new ArgumentException($"the file name suffix '{Shorten(suffix)}' of document id '{Shorten(docId)}' holds a separator or control character.", nameof(suffix));
        var fullRoot = Path.GetFullPath(root);
        var path = Path.GetFullPath(Path.Combine(fullRoot, docId.Replace('\\', '/') + suffix));
        // Belt and braces: the checks above already rule this out.
        if (!path.StartsWith(fullRoot.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new ArgumentException($"document id '{Shorten(docId)}' leads out of {fullRoot}.", nameof(docId));
        return path;
    }

    /// <summary>The id as it may appear in a message: control characters shown as '?', long ids cut.</summary>
    public static string Shorten(string docId)
    {
        var shown = new string(docId.Select(c => char.IsControl(c) ? '?' : c).ToArray());
        return shown.Length <= 120 ? shown : shown[..120] + "...";
    }
}
