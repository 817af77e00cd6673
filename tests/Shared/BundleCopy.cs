using System.Diagnostics;

namespace PeftOnnx.Tests;

/// <summary>
/// Puts a large model file into a test bundle without copying 90 MB each time: a hard link (ln(1)), or a copy where
/// that fails (another file system). Symbolic links would not do: a bundle refuses links that lead out of its folder.
/// A linked file shares the pulled model's bytes, so a test that changes one uses <see cref="Replace"/>, never an
/// in-place write (appending to a linked vocab.txt once changed models/minilm-l6 for every test running beside it).
/// </summary>
internal static class BundleCopy
{
    public static void File(string source, string destination)
    {
        if (OperatingSystem.IsLinux())
        {
            using var ln = Process.Start(new ProcessStartInfo("ln", [source, destination]) { RedirectStandardError = true })!;
            ln.WaitForExit();
            if (ln.ExitCode == 0)
                return;
        }
        System.IO.File.Copy(source, destination);
    }

    /// <summary>Gives <paramref name="path"/> new contents in a new file, leaving whatever it was linked to untouched.</summary>
    public static void Replace(string path, byte[] contents)
    {
        System.IO.File.Delete(path);
        System.IO.File.WriteAllBytes(path, contents);
    }
}
