using System.Diagnostics;

namespace PeftOnnx.Tests;

/// <summary>
/// Puts a large model file into a test bundle without copying 90 MB each time: a hard link (ln(1)), or a copy where
/// that fails (another file system). Symbolic links would not do: a bundle refuses links that lead out of its folder.
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
}
