using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace PeftOnnx.Hosting.Tests.Support;

/// <summary>
/// A throw-away redis-server on a free loopback port, without persistence, killed on dispose. The binary is the first
/// redis-server on PATH (Debian's redis-server package; .ci/run installs it when missing). Where it is missing, a test that starts one is
/// skipped with the reason (use <c>[SkippableFact]</c>); under CI (<c>CI=true</c>) a missing server is a failure, so
/// CI can never skip the scale-out tests silently.
/// </summary>
internal sealed class RedisServer : IDisposable
{
    private readonly Process _process;

    private RedisServer(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public string Endpoint => $"127.0.0.1:{Port}";

    public static async Task<RedisServer> StartAsync()
    {
        var binary = RequiredTool.Find("sudo apt-get update && sudo apt-get install -y redis-server", "Redis scale-out test", "redis-server");
        var port = FreePort();
        var info = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "--port", port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no" })
            info.ArgumentList.Add(arg);
        var process = Process.Start(info)!;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new RedisServer(process, port);
        await Poll.UntilAsync(() => CanConnect(port) || process.HasExited, TimeSpan.FromSeconds(20), () => $"redis-server on port {port}");
        if (process.HasExited)
            throw new InvalidOperationException($"redis-server exited with {process.ExitCode} at start");
        return server;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }
        _process.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static bool CanConnect(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
