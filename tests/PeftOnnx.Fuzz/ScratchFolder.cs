namespace PeftOnnx.Fuzz;

/// <summary>
/// A private temp folder for targets whose parser reads a path: each input is written to the same file names in it.
/// Deleted on dispose (and at exit), so campaigns leave nothing behind.
/// </summary>
public sealed class ScratchFolder : IDisposable
{
    public ScratchFolder(string target)
    {
        Path = System.IO.Path.Combine(Root, $"peftonnx-fuzz-{target}-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Dispose();
    }

    public string Path { get; }

    // Memory-backed on Linux: a disk-backed temp folder makes the file targets about 20 times slower.
    private static string Root => Directory.Exists("/dev/shm") ? "/dev/shm" : System.IO.Path.GetTempPath();

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="name"/> in the folder and returns the file's path.</summary>
    public string Write(string name, ReadOnlySpan<byte> bytes)
    {
        var path = System.IO.Path.Combine(Path, name);
        using (var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1))
            file.Write(bytes);
        return path;
    }

    public void Dispose()
    {
        if (Directory.Exists(Path))
            Directory.Delete(Path, recursive: true);
    }
}
