using System.Diagnostics;
using System.Text;
using PeftOnnx.Tests;

namespace PeftOnnx.Hosting.Tests.Support;

/// <summary>
/// Runs the built `peftonnx` (dotnet exec peftonnx.dll) as a child process, capturing its output, so tests can kill
/// it with SIGKILL or stop it with SIGTERM like an operator or systemd would.
/// </summary>
internal sealed class PeftOnnxProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private PeftOnnxProcess(Process process)
    {
        _process = process;
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public string Output
    {
        get
        {
            lock (_output)
                return _output.ToString();
        }
    }

    /// <summary>The peftonnx.dll built with the test project (the Cli project is a project reference).</summary>
    public static string Dll
    {
        get
        {
            var local = Path.Combine(AppContext.BaseDirectory, "peftonnx.dll");
            if (File.Exists(local) && File.Exists(Path.Combine(AppContext.BaseDirectory, "peftonnx.runtimeconfig.json")))
                return local;
            var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Debug" : "Release";
            var built = Path.Combine(TestPaths.RepoRoot, "src", "PeftOnnx.Cli", "bin", configuration, "net10.0", "peftonnx.dll");
            return File.Exists(built) ? built : throw new FileNotFoundException($"peftonnx.dll not found next to the tests or at {built}; build src/PeftOnnx.Cli.");
        }
    }

    public static PeftOnnxProcess Start(params string[] args) => Start(new Dictionary<string, string>(), args);

    /// <summary>Starts it with <paramref name="environment"/> added to (or replacing values of) this process's environment.</summary>
    public static PeftOnnxProcess Start(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        info.ArgumentList.Add("exec");
        info.ArgumentList.Add(Dll);
        foreach (var arg in args)
            info.ArgumentList.Add(arg);
        info.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (name, value) in environment)
            info.Environment[name] = value;
        var process = new Process { StartInfo = info };
        var wrapper = new PeftOnnxProcess(process);
        process.OutputDataReceived += (_, e) => wrapper.Append(e.Data);
        process.ErrorDataReceived += (_, e) => wrapper.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return wrapper;
    }

    /// <summary>Runs to completion (bounded) and returns the exit code.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(TimeSpan timeout, params string[] args)
    {
        using var process = Start(args);
        await process.WaitForExitAsync(timeout);
        return (process.ExitCode, process.Output);
    }

    /// <summary>SIGKILL: no shutdown code runs, as in a crash or an OOM kill.</summary>
    public void KillHard()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    /// <summary>SIGTERM: what systemd sends; the host shuts down gracefully.</summary>
    public void Terminate()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString()]);
        kill.WaitForExit();
    }

    public async Task WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            KillHard();
            throw new TimeoutException($"peftonnx did not exit within {timeout}; output:\n{Output}");
        }
        // The asynchronous output readers finish after the exit; wait for them so Output is complete.
        _process.WaitForExit();
    }

    public void Dispose()
    {
        if (!_process.HasExited)
            KillHard();
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
            return;
        lock (_output)
            _output.AppendLine(line);
    }
}
