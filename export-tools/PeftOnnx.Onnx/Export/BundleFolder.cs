namespace PeftOnnx.Onnx.Export;

/// <summary>
/// Writes a folder all-or-nothing: everything goes into a sibling "&lt;out&gt;.tmp-XXXXXXXX", which is renamed to
/// &lt;out&gt; only when complete and deleted on any failure, so bad input never leaves a partial bundle.
/// </summary>
public static class BundleFolder
{
    public static void Write(string outputDirectory, bool force, Action<string> fill)
    {
        ArgumentException.ThrowIfNullOrEmpty(outputDirectory);
        ArgumentNullException.ThrowIfNull(fill);
        var target = Path.GetFullPath(outputDirectory.TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar));
        if (File.Exists(target))
            throw new IOException($"{target} is a file; the bundle needs a folder path.");
        if (Directory.Exists(target) && !force)
            throw new IOException($"{target} already exists; pass --force to replace it, or choose another --out.");

        var parent = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(parent);
        var tmp = Path.Combine(parent, $"{Path.GetFileName(target)}.tmp-{Guid.NewGuid().ToString("N")[..8]}");
        Directory.CreateDirectory(tmp);
        try
        {
            fill(tmp);
            if (Directory.Exists(target))
                Directory.Delete(target, recursive: true);
            Directory.Move(tmp, target);
        }
        catch
        {
            if (Directory.Exists(tmp))
                Directory.Delete(tmp, recursive: true);
            throw;
        }
    }
}
