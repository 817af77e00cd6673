using System.Diagnostics;

namespace PeftOnnx.Hosting.Tests.Support;

/// <summary>
/// A small tmpfs mounted over a folder, so a test can fill the disk for real (ENOSPC for files, SQLITE_FULL for the
/// ledger) and free it again. Mounting needs root, as CI runs; elsewhere the test fails saying so. Unmounted on dispose.
/// </summary>
internal sealed class SmallDisk : IDisposable
{
    private readonly string _filler;

    private SmallDisk(string path)
    {
        Path = path;
        _filler = System.IO.Path.Combine(path, "filler.bin");
    }

    public string Path { get; }

    public static SmallDisk Mount(string path, long bytes)
    {
        Directory.CreateDirectory(path);
        var (code, output) = Run("mount", "-t", "tmpfs", "-o", $"size={bytes}", "tmpfs", path);
        if (code != 0)
            throw new InvalidOperationException($"mounting a {bytes:N0}-byte tmpfs at {path} failed ({output.Trim()}); this test fills a real disk and needs root (CI runs as root).");
        return new SmallDisk(path);
    }

    /// <summary>Fills the disk with one file up to the last byte, then gives back <paramref name="leaveFree"/> bytes.</summary>
    public void Fill(int leaveFree)
    {
        using var filler = new FileStream(_filler, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0);
        var chunk = new byte[64 * 1024];
        try
        {
            while (true)
                filler.Write(chunk);
        }
        catch (IOException)
        {
            // ENOSPC: full.
        }
        filler.SetLength(Math.Max(0, filler.Length / chunk.Length * chunk.Length - leaveFree));
    }

    /// <summary>Frees the space <see cref="Fill"/> took.</summary>
    public void Free() => File.Delete(_filler);

    public void Dispose() => Run("umount", "-l", Path);

    private static (int Code, string Output) Run(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
            info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output);
    }
}
