using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace PeftOnnx.Tests;

/// <summary>
/// A Hugging Face Hub stand-in on 127.0.0.1 that serves a folder the test made, on the Hub's public routes:
/// <c>GET /api/models/ORG/NAME/revision/REV</c> (commit sha, siblings with size, blobId and lfs.sha256) and
/// <c>GET /ORG/NAME/resolve/COMMIT/FILE</c> (Range requests answered 206). Large files answer the resolve route with a
/// 302 to <c>/cdn/...</c> as the Hub does. Faults a test can switch on: drop the connection halfway through a file
/// once, and advertise a wrong sha256 for a file.
/// </summary>
public sealed class LoopbackHub : IDisposable
{
    public const string Commit = "0123456789abcdef0123456789abcdef01234567";

    private readonly HttpListener _listener = new();
    private readonly string _folder;
    private readonly string _repo;
    private readonly Task _loop;
    private readonly HashSet<string> _lfs;

    public LoopbackHub(string folder, string repo, params string[] lfsFiles)
    {
        _folder = folder;
        _repo = repo;
        _lfs = [.. lfsFiles];
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Endpoint = new Uri($"http://127.0.0.1:{port}/");
        _listener.Prefixes.Add(Endpoint.ToString());
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public Uri Endpoint { get; }

    /// <summary>A file whose first download is cut off after half its bytes.</summary>
    public string? DropOnce { get; set; }

    /// <summary>A file whose advertised sha256 is wrong.</summary>
    public string? WrongHash { get; set; }

    /// <summary>Requests served, e.g. "GET /org/name/resolve/... Range=bytes=100-".</summary>
    public List<string> Log { get; } = [];

    /// <summary>The Authorization header of the last API request.</summary>
    public string? LastAuthorization { get; private set; }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            try
            {
                Serve(context);
            }
            catch (Exception e) when (e is HttpListenerException or IOException)
            {
                // the client went away
            }
        }
    }

    private void Serve(HttpListenerContext context)
    {
        var path = Uri.UnescapeDataString(context.Request.Url!.AbsolutePath);
        var range = context.Request.Headers["Range"];
        lock (Log)
            Log.Add($"GET {path}{(range is null ? "" : " Range=" + range)}");
        var response = context.Response;
        var api = $"/api/models/{_repo}/revision/";
        var resolve = $"/{_repo}/resolve/{Commit}/";
        if (path.StartsWith(api, StringComparison.Ordinal))
        {
            LastAuthorization = context.Request.Headers["Authorization"];
            Send(response, 200, Encoding.UTF8.GetBytes(RevisionJson()), "application/json");
        }
        else if (path.StartsWith(resolve, StringComparison.Ordinal) && _lfs.Contains(path[resolve.Length..]))
        {
            response.StatusCode = 302;
            response.RedirectLocation = $"/cdn/{path[resolve.Length..]}";
            response.Close();
        }
        else if (path.StartsWith(resolve, StringComparison.Ordinal) || path.StartsWith("/cdn/", StringComparison.Ordinal))
        {
            var file = path.StartsWith("/cdn/", StringComparison.Ordinal) ? path["/cdn/".Length..] : path[resolve.Length..];
            var full = Path.Combine(_folder, file);
            if (!File.Exists(full))
            {
                Send(response, 404, [], "text/plain");
                return;
            }
            ServeFile(response, file, File.ReadAllBytes(full), range);
        }
        else
        {
            Send(response, 404, [], "text/plain");
        }
    }

    private void ServeFile(HttpListenerResponse response, string file, byte[] bytes, string? range)
    {
        var from = 0;
        if (range is not null && range.StartsWith("bytes=", StringComparison.Ordinal))
        {
            from = int.Parse(range["bytes=".Length..].TrimEnd('-'), System.Globalization.CultureInfo.InvariantCulture);
            response.StatusCode = 206;
            response.Headers["Content-Range"] = $"bytes {from}-{bytes.Length - 1}/{bytes.Length}";
        }
        else
        {
            response.StatusCode = 200;
        }
        response.ContentType = "application/octet-stream";
        response.ContentLength64 = bytes.Length - from;
        if (file == DropOnce)
        {
            DropOnce = null;
            var half = (bytes.Length - from) / 2;
            response.OutputStream.Write(bytes, from, half);
            response.OutputStream.Flush();
            response.Abort();
            return;
        }
        response.OutputStream.Write(bytes, from, bytes.Length - from);
        response.Close();
    }

    private string RevisionJson()
    {
        var siblings = new JsonArray();
        foreach (var full in Directory.EnumerateFiles(_folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var name = Path.GetRelativePath(_folder, full).Replace('\\', '/');
            var bytes = File.ReadAllBytes(full);
            var entry = new JsonObject { ["rfilename"] = name, ["size"] = bytes.Length };
            if (_lfs.Contains(name))
            {
                var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
                if (name == WrongHash)
                    sha = new string('0', 64);
                entry["blobId"] = GitSha1(Encoding.ASCII.GetBytes(sha));
                entry["lfs"] = new JsonObject { ["sha256"] = sha, ["size"] = bytes.Length, ["pointerSize"] = 134 };
            }
            else
            {
                entry["blobId"] = GitSha1([.. Encoding.ASCII.GetBytes($"blob {bytes.Length}\0"), .. bytes]);
            }
            siblings.Add(entry);
        }
        return new JsonObject { ["id"] = _repo, ["sha"] = Commit, ["siblings"] = siblings }.ToJsonString();
    }

    // Git names blobs by SHA-1; this is an identifier, not a security boundary.
    private static string GitSha1(byte[] bytes)
    {
        using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        sha1.AppendData(bytes);
        return Convert.ToHexStringLower(sha1.GetHashAndReset());
    }

    private static void Send(HttpListenerResponse response, int status, byte[] body, string type)
    {
        response.StatusCode = status;
        response.ContentType = type;
        response.ContentLength64 = body.Length;
        response.OutputStream.Write(body);
        response.Close();
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
    }
}
