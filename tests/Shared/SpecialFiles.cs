using System.Diagnostics;

namespace PeftOnnx.Tests;

/// <summary>Special files for tests that must refuse them: a FIFO made with mkfifo(1) (Linux only).</summary>
internal static class SpecialFiles
{
    /// <summary>Creates a FIFO at <paramref name="path"/>; opening it for reading would block until a writer appears.</summary>
    public static string Fifo(string path)
    {
        using (var mkfifo = Process.Start("mkfifo", path))
            mkfifo.WaitForExit();
        if (!File.Exists(path))
            throw new InvalidOperationException($"mkfifo did not create {path}.");
        return path;
    }

    /// <summary>Runs <paramref name="action"/> on another thread and fails the test if it has not returned within 10 s.</summary>
    public static T Promptly<T>(Func<T> action)
    {
        var task = Task.Run(action);
        if (!task.Wait(TimeSpan.FromSeconds(10)))
            throw new TimeoutException("blocked for 10 s (opening a special file?)");
        return task.Result;
    }
}
