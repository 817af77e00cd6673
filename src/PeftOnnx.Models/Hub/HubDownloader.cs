using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;

namespace PeftOnnx.Models.Hub;

/// <summary>Bytes of one file received so far (for a progress bar).</summary>
public sealed record HubProgress(string File, long Received, long Total);

/// <summary>
/// Downloads the files a BERT checkpoint needs from the Hugging Face Hub's public routes:
/// <c>GET {endpoint}/api/models/{repo}/revision/{rev}?blobs=true</c> for the commit, the file list and each file's size
/// and hash, then <c>GET {endpoint}/{repo}/resolve/{commit}/{file}</c> (redirects followed) for each file. A file is
/// written to FILE.incomplete, resumed with a Range request after a dropped connection (or on the next run), verified
/// (LFS sha256, or git blob id) and only then renamed. The revision is assembled in
/// {cache}/{models--ORG--NAME}/snapshots/{commit}.incomplete and renamed to {commit} once every file checks out; a file
/// that does not match its hash deletes the whole unfinished snapshot, so nothing unverified is ever kept.
/// </summary>
public sealed class HubDownloader
{
    /// <summary>Environment variables, as the Hub's own clients read them.</summary>
    public const string EndpointVariable = "HF_ENDPOINT";
    public const string TokenVariable = "HF_TOKEN";
    public const string CacheVariable = "PEFTONNX_HUB_CACHE";
    public const string DefaultEndpoint = "https://huggingface.co";

    /// <summary>Attempts per file; each one resumes where the previous stopped.</summary>
    private const int Attempts = 5;

    private static readonly string[] Required = ["config.json"];
    private static readonly string[] Optional = ["tokenizer_config.json", "special_tokens_map.json", "modules.json", "1_Pooling/config.json"];

    private readonly HttpClient _http;
    private readonly Uri _endpoint;
    private readonly string? _token;

    /// <param name="http">The caller owns and disposes it (redirects must be followed, as HttpClient does by default).</param>
    /// <param name="endpoint">The Hub, e.g. https://huggingface.co or a mirror.</param>
    /// <param name="token">Sent as a bearer token to the endpoint (gated or private models); null for none.</param>
    public HubDownloader(HttpClient http, Uri endpoint, string? token)
    {
        _http = http;
        _endpoint = endpoint;
        _token = string.IsNullOrWhiteSpace(token) ? null : token;
    }

    /// <summary>HF_ENDPOINT (default https://huggingface.co) and HF_TOKEN from the environment.</summary>
    public static HubDownloader FromEnvironment(HttpClient http)
    {
        var endpoint = Environment.GetEnvironmentVariable(EndpointVariable);
        return new HubDownloader(http, new Uri(string.IsNullOrWhiteSpace(endpoint) ? DefaultEndpoint : endpoint.TrimEnd('/')), Environment.GetEnvironmentVariable(TokenVariable));
    }

    /// <summary>$PEFTONNX_HUB_CACHE, else ~/.cache/peftonnx/hub.</summary>
    public static string DefaultCache() =>
        Environment.GetEnvironmentVariable(CacheVariable) is { Length: > 0 } dir
            ? dir
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "peftonnx", "hub");

    /// <summary>Downloads (or finds in the cache) the checkpoint's files; returns the verified snapshot folder and the commit.</summary>
    public async Task<(string Folder, string Commit)> DownloadAsync(HubModelId id, string cache, IProgress<HubProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        var revision = await ReadRevisionAsync(id, cancellationToken);
        var files = Select(id, revision);
        var snapshots = Path.Combine(Path.GetFullPath(cache), id.CacheName, "snapshots");
        var done = Path.Combine(snapshots, revision.Commit);
        if (Directory.Exists(done))
            return (done, revision.Commit);
        var staging = done + ".incomplete";
        Directory.CreateDirectory(staging);
        foreach (var file in files)
        {
            try
            {
                await DownloadFileAsync(id, revision.Commit, file, staging, progress, cancellationToken);
            }
            catch (HubIntegrityException)
            {
                Directory.Delete(staging, recursive: true);
                throw;
            }
        }
        Directory.Move(staging, done);
        return (done, revision.Commit);
    }

    /// <summary>The files to fetch: config, weights (safetensors, else an Optimum model.onnx), tokenizer, sentence-transformers pooling.</summary>
    public static IReadOnlyList<HubFile> Select(HubModelId id, HubRevision revision)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(revision);
        var files = revision.Files;
        var chosen = new List<HubFile>();
        foreach (var name in Required)
        {
            chosen.Add(files.TryGetValue(name, out var f) ? f
                : throw new InvalidDataException($"{id} has no {name}; it is not a transformers model repository."));
        }
        if (files.TryGetValue("model.safetensors", out var weights))
            chosen.Add(weights);
        else if (files.ContainsKey("model.safetensors.index.json"))
            throw new InvalidDataException($"{id} stores its weights in shards (model.safetensors.index.json); the importer reads one model.safetensors.");
        else if (files.TryGetValue("onnx/model.onnx", out var onnx) || files.TryGetValue("model.onnx", out onnx))
            chosen.Add(onnx);
        else if (files.ContainsKey("pytorch_model.bin"))
            throw new InvalidDataException($"{id} has only pytorch_model.bin, a pickled checkpoint; PeftOnnx never unpickles. Pick a revision with model.safetensors (the Hub's safetensors conversion bot opens a PR refs/pr/N for most models: hf:{id.Repo}@refs/pr/N).");
        else
            throw new InvalidDataException($"{id} has no model.safetensors (files: {string.Join(", ", files.Keys.Take(12))}).");
        if (files.TryGetValue("tokenizer.json", out var tokenizer))
            chosen.Add(tokenizer);
        else if (files.TryGetValue("vocab.txt", out var vocab))
            chosen.Add(vocab);
        else
            throw new InvalidDataException($"{id} has neither tokenizer.json nor vocab.txt.");
        chosen.AddRange(Optional.Where(files.ContainsKey).Select(n => files[n]));
        foreach (var file in chosen)
        {
            if (file.Size < 0 || (file.Sha256 is null && file.GitBlobId is null))
                throw new InvalidDataException($"{id}: the Hub lists {file.Path} without a size or hash, so the download could not be verified.");
        }
        return chosen;
    }

    private async Task<HubRevision> ReadRevisionAsync(HubModelId id, CancellationToken cancellationToken)
    {
        var uri = new Uri(_endpoint, $"api/models/{id.Repo}/revision/{Uri.EscapeDataString(id.Revision)}?blobs=true");
        using var request = Request(uri);
        using var response = await SendAsync(request, uri, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            var hint = response.StatusCode switch
            {
                HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => $"; the repository is gated or private: set {TokenVariable} to a token with access",
                HttpStatusCode.NotFound => "; check the model id and the revision",
                _ => "",
            };
            throw new HttpRequestException($"GET {uri} answered {(int)response.StatusCode} {response.ReasonPhrase}{hint}.", null, response.StatusCode);
        }
        var json = await response.Content.ReadAsStringAsync(cancellationToken);
        return HubRevision.Parse(json, uri.ToString());
    }

    private async Task DownloadFileAsync(HubModelId id, string commit, HubFile file, string folder, IProgress<HubProgress>? progress, CancellationToken cancellationToken)
    {
        var target = Path.Combine(folder, file.Path.Replace('/', Path.DirectorySeparatorChar));
        if (File.Exists(target))
            return; // verified before it was renamed
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var partial = target + ".incomplete";
        var uri = new Uri(_endpoint, $"{id.Repo}/resolve/{commit}/{string.Join('/', file.Path.Split('/').Select(Uri.EscapeDataString))}");
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await ReceiveAsync(uri, file, partial, progress, cancellationToken);
                break;
            }
            catch (Exception e) when (attempt < Attempts && e is IOException or HttpRequestException && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), cancellationToken);
            }
        }
        Verify(file, partial);
        File.Move(partial, target);
    }

    /// <summary>Appends the rest of the file to <paramref name="partial"/>, asking for bytes from its current length on.</summary>
    private async Task ReceiveAsync(Uri uri, HubFile file, string partial, IProgress<HubProgress>? progress, CancellationToken cancellationToken)
    {
        var have = File.Exists(partial) ? new FileInfo(partial).Length : 0;
        if (have > file.Size)
        {
            File.Delete(partial);
            have = 0;
        }
        if (have == file.Size)
            return;
        using var request = Request(uri);
        if (have > 0)
            request.Headers.Range = new RangeHeaderValue(have, null);
        using var response = await SendAsync(request, uri, cancellationToken);
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"GET {uri} answered {(int)response.StatusCode} {response.ReasonPhrase}.", null, response.StatusCode);
        var append = response.StatusCode == HttpStatusCode.PartialContent && response.Content.Headers.ContentRange?.From == have;
        if (!append)
            have = 0; // the server sent the whole file
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        await using var output = new FileStream(partial, append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        var buffer = new byte[1 << 16];
        int read;
        while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
        {
            have += read;
            if (have > file.Size)
                throw new HubIntegrityException($"{uri} sent more than the {file.Size:N0} bytes the Hub lists for {file.Path}; the download was deleted.");
            await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            progress?.Report(new HubProgress(file.Path, have, file.Size));
        }
        if (have < file.Size)
            throw new IOException($"{uri} ended after {have:N0} of {file.Size:N0} bytes.");
    }

    private static void Verify(HubFile file, string partial)
    {
        using var stream = File.OpenRead(partial);
        if (file.Sha256 is not null)
        {
            var sha = Convert.ToHexStringLower(SHA256.HashData(stream));
            if (!string.Equals(sha, file.Sha256, StringComparison.OrdinalIgnoreCase))
                throw new HubIntegrityException($"{file.Path} has sha256 {sha}, but the Hub's metadata says {file.Sha256}; the download was deleted.");
            return;
        }
        using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        sha1.AppendData(Encoding.ASCII.GetBytes($"blob {stream.Length}\0"));
        var buffer = new byte[1 << 16];
        int read;
        while ((read = stream.Read(buffer)) > 0)
            sha1.AppendData(buffer.AsSpan(0, read));
        var blob = Convert.ToHexStringLower(sha1.GetHashAndReset());
        if (!string.Equals(blob, file.GitBlobId, StringComparison.OrdinalIgnoreCase))
            throw new HubIntegrityException($"{file.Path} has git blob id {blob}, but the Hub's metadata says {file.GitBlobId}; the download was deleted.");
    }

    private HttpRequestMessage Request(Uri uri)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, uri);
        if (_token is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _token);
        return request;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, Uri uri, CancellationToken cancellationToken)
    {
        try
        {
            return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new HttpRequestException($"GET {uri} failed: {e.Message} (set {EndpointVariable} to use a mirror).", e, e.StatusCode);
        }
    }
}

/// <summary>A downloaded file does not match the Hub's size or hash: never retried, never kept.</summary>
public sealed class HubIntegrityException(string message) : Exception(message);
