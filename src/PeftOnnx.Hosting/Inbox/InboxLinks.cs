namespace PeftOnnx.Hosting.Inbox;

/// <summary>
/// Symbolic links in an inbox: one whose target (after every link on the way, folders included) lies outside the
/// inbox would let whoever can drop a file have any file this service can read scored and moved, so it is refused
/// unless Worker:FollowSymlinks (--follow-symlinks) says links are trusted.
/// </summary>
public static class InboxLinks
{
    private const int MaxHops = 40;

    /// <summary>
    /// Where <paramref name="path"/> really leads when that is outside <paramref name="root"/>; null when the path
    /// and every folder above it up to the root are no links, or when the links stay inside the root.
    /// </summary>
    public static string? TargetOutside(string root, string path)
    {
        var realRoot = RealPath(root);
        var real = RealPath(path);
        return real == realRoot || real.StartsWith(realRoot.TrimEnd('/') + "/", StringComparison.Ordinal) ? null : real;
    }

    /// <summary>
    /// <paramref name="path"/> with every symbolic link resolved (as realpath(3) does; a missing tail is kept as
    /// written). Unix paths.
    /// </summary>
    public static string RealPath(string path)
    {
        var pending = new Stack<string>(Parts(Path.GetFullPath(path)).Reverse());
        var current = "/";
        var hops = 0;
        while (pending.TryPop(out var part))
        {
            if (part == ".")
                continue;
            if (part == "..")
            {
                current = Path.GetDirectoryName(current) ?? "/";
                continue;
            }
            var next = Path.Combine(current, part);
            var target = new FileInfo(next).LinkTarget;
            if (target is null)
            {
                current = next;
                continue;
            }
            if (++hops > MaxHops)
                throw new IOException($"more than {MaxHops} symbolic links on the way to {path} (a loop?)");
            foreach (var targetPart in Parts(target).Reverse())
                pending.Push(targetPart);
            if (Path.IsPathRooted(target))
                current = "/";
        }
        return current;
    }

    private static string[] Parts(string path) => path.Split('/', StringSplitOptions.RemoveEmptyEntries);
}
