namespace PeftOnnx.Hosting.Outbox;

/// <summary>
/// Names that take nothing over: an input moved to processed/ or failed/ keeps its name unless another input with
/// the same name is already there, then it becomes name.1.ext, name.2.ext, ... so no input is ever overwritten.
/// </summary>
public static class FreeName
{
    /// <summary>
    /// <paramref name="path"/>, or the first numbered variant for which neither the file nor
    /// <paramref name="path"/> + <paramref name="companionSuffix"/> (e.g. its .reason.txt) exists.
    /// </summary>
    public static string For(string path, string companionSuffix = "")
    {
        if (IsFree(path, companionSuffix))
            return path;
        var folder = Path.GetDirectoryName(path)!;
        var stem = Path.GetFileNameWithoutExtension(path);
        var extension = Path.GetExtension(path);
        for (var n = 1; ; n++)
        {
            var candidate = Path.Combine(folder, $"{stem}.{n}{extension}");
            if (IsFree(candidate, companionSuffix))
                return candidate;
        }
    }

    /// <summary>
    /// Moves an input (a symbolic link as the link) to <paramref name="target"/>, a name <see cref="For"/> gave. A move to
    /// another file system copies; when that fails (a full disk) the partial copy is removed, so the retry finds the name
    /// free again and no half input is ever left next to the whole one.
    /// </summary>
    public static void Move(string source, string target)
    {
        try
        {
            File.Move(source, target, overwrite: false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (Exists(source) && Exists(target))
                File.Delete(target);
            throw;
        }
    }

    private static bool IsFree(string path, string companionSuffix) =>
        !Exists(path) && (companionSuffix.Length == 0 || !Exists(path + companionSuffix));

    /// <summary>True for files, folders and symbolic links, dangling ones included.</summary>
    public static bool Exists(string path) => Path.Exists(path) || new FileInfo(path).LinkTarget is not null;
}
