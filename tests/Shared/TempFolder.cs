namespace PeftOnnx.Tests;

/// <summary>A fresh folder under the system temp folder, deleted with everything in it when the test ends.</summary>
public sealed class TempFolder : IDisposable
{
    public TempFolder(string prefix = "peftonnx-tests")
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"{prefix}-{Guid.NewGuid().ToString("N")[..12]}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    /// <summary>Writes <paramref name="content"/> (UTF-8, no BOM) to a file under the folder, creating its folders; returns its path.</summary>
    public string File(string relative, string content) => Bytes(relative, System.Text.Encoding.UTF8.GetBytes(content));

    public string Bytes(string relative, byte[] content)
    {
        var path = Combine(relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        System.IO.File.WriteAllBytes(path, content);
        return path;
    }

    /// <summary>Every file under the folder, relative, sorted.</summary>
    public IEnumerable<string> Files() =>
        Directory.EnumerateFiles(Path, "*", SearchOption.AllDirectories).Select(f => System.IO.Path.GetRelativePath(Path, f)).Order(StringComparer.Ordinal);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a file still open (a session, a log) must not fail the test that used the folder.
        }
    }
}
