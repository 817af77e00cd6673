using System.Diagnostics;

namespace PeftOnnx.Hosting.Tests.Support;

/// <summary>
/// A small tmpfs mounted over a folder, so a test can fill the disk for real (ENOSPC for files, SQLITE_FULL for the
/// ledger) and free it again. Mounting needs root: without it the test is skipped with the reason, except under CI
/// (<c>CI=true</c>, which runs as root), where it fails. Unmounted on dispose.
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
        var failed = $"mounting a {bytes:N0}-byte tmpfs at {path} failed ({output.Trim()}); the test fills a real disk and needs root";
        if (code != 0 && string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException(failed + ", which CI has.");
        Skip.If(code != 0, failed + ": skipped.");
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
