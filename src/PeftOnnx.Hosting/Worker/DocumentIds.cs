namespace PeftOnnx.Hosting.Worker;

/// <summary>Document ids: a document's path relative to the folder it was found in, with '/' separators.</summary>
public static class DocumentIds
{
    public static string For(string root, string path) =>
        Path.GetRelativePath(root, path).Replace(Path.DirectorySeparatorChar, '/');
}
