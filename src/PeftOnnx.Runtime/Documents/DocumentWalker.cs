namespace PeftOnnx.Runtime.Documents;

/// <summary>
/// Streams the files under a folder, recursively, without materialising the listing (a folder of 100,000
/// files costs one directory's entries at a time). Hidden entries (dot-names) are skipped; unreadable
/// directories are skipped rather than failing the walk.
/// </summary>
public static class DocumentWalker
{
    public static IEnumerable<string> Walk(string root)
    {
        if (!Directory.Exists(root))
            throw new DirectoryNotFoundException($"{root} is not a folder; pass the folder holding the documents.");
        var options = new EnumerationOptions
        {
            RecurseSubdirectories = true,
            IgnoreInaccessible = true,
            AttributesToSkip = FileAttributes.Hidden | FileAttributes.System | FileAttributes.ReparsePoint,
            ReturnSpecialDirectories = false,
        };
        return Directory.EnumerateFiles(root, "*", options);
    }
}
