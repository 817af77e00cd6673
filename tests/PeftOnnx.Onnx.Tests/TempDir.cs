namespace PeftOnnx.Onnx.Tests;

/// <summary>A temporary folder deleted with its contents on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("peftonnx-onnx-").FullName;

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // best effort: a locked file must not fail the test that used it
        }
    }
}
