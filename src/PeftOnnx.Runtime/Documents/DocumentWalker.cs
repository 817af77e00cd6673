namespace PeftOnnx.Runtime.Documents;

/// <summary>
/// Expands the paths given to `peftonnx score` into document files, streaming: folders are walked
/// recursively one directory at a time (files of a folder in name order, then its subfolders), so a huge
/// tree is never listed in memory. Hidden entries (dot-files, .git) and symbolic links to folders are not
/// followed. Paths that do not exist are passed through so the reader reports them.
/// </summary>
public static class DocumentWalker
{
    private static readonly EnumerationOptions OneLevel = new()
    {
        RecurseSubdirectories = false,
        IgnoreInaccessible = true,
        AttributesToSkip = FileAttributes.Hidden | FileAttributes.System,
        ReturnSpecialDirectories = false,
    };

    public static IEnumerable<string> Walk(IEnumerable<string> inputs)
    {
        foreach (var input in inputs)
        {
            if (Directory.Exists(input))
            {
                foreach (var file in WalkFolder(new DirectoryInfo(input)))
                    yield return file;
            }
            else
            {
                yield return input;
            }
        }
    }

    private static IEnumerable<string> WalkFolder(DirectoryInfo root)
    {
        var pending = new Stack<DirectoryInfo>();
        pending.Push(root);
        while (pending.Count > 0)
        {
            var folder = pending.Pop();
            string[] files;
            DirectoryInfo[] subfolders;
            try
            {
                files = Directory.GetFiles(folder.FullName, "*", OneLevel);
                subfolders = folder.GetDirectories("*", OneLevel);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A folder deleted or locked while walking: the rest of the tree still counts.
                continue;
            }
            Array.Sort(files, StringComparer.Ordinal);
            foreach (var file in files)
                yield return file;
            Array.Sort(subfolders, (a, b) => StringComparer.Ordinal.Compare(b.Name, a.Name));
            foreach (var subfolder in subfolders)
            {
                if (subfolder.LinkTarget is null)
                    pending.Push(subfolder);
            }
        }
    }
}
