using System.CommandLine;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using PeftOnnx.Benchmarking;
using PeftOnnx.Cli.Commands.Common;
using PeftOnnx.Hosting.Http;
using Spectre.Console;

namespace PeftOnnx.Cli.Commands.LoadGen;

/// <summary>
/// `peftonnx loadgen`: a closed-loop HTTP load generator for `peftonnx serve`: N concurrent clients each send
/// POST /v1/classify (one document per request by default) back to back for a bounded time; reports p50/p99
/// latency and throughput per concurrency level.
/// </summary>
internal static class LoadGenCommand
{
    public static Command Create()
    {
        var url = new Option<string>("--url") { Description = "Server base address.", DefaultValueFactory = _ => "http://127.0.0.1:5080" };
        var concurrency = new Option<string>("--concurrency", "-c") { Description = "Comma-separated client counts.", DefaultValueFactory = _ => "1,8,32" };
        var duration = new Option<double>("--duration") { Description = "Seconds measured per concurrency level (after a 2 s warm-up).", DefaultValueFactory = _ => 10 };
        var textsPerRequest = new Option<int>("--texts-per-request") { Description = "Documents per request.", DefaultValueFactory = _ => 1 };
        var endpoint = new Option<string>("--endpoint") { Description = "classify or embed.", DefaultValueFactory = _ => "classify" };
        var data = new Option<string?>("--data") { Description = "JSONL file with a \"text\" field per line (default: data/debian-sections.test.jsonl, from the repository root)." };
        var apiKeyFile = new Option<string?>("--api-key-file") { Description = "File of API keys as `serve --api-key-file` reads it; the first is sent as Authorization: Bearer." };
        var command = new Command("loadgen", "Benchmark a running `peftonnx serve`: p50/p99 latency and throughput at several concurrency levels.")
        {
            url, concurrency, duration, textsPerRequest, endpoint, data, apiKeyFile,
        };
        CliAction.Set(command, async (result, context, cancellationToken) =>
        {
            var levels = result.GetValue(concurrency)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(c => int.TryParse(c, out var n) && n > 0 ? n : throw new UsageException($"--concurrency has '{c}'; use positive integers like 1,8,32.")).ToArray();
            var perRequest = result.GetValue(textsPerRequest);
            if (perRequest < 1)
                throw new UsageException($"--texts-per-request must be at least 1, got {perRequest}.");
            var texts = BenchTexts.Load(result.GetValue(data));
            var path = $"/v1/{result.GetValue(endpoint)}";
            using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = levels.Max(), PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
            {
                BaseAddress = new Uri(result.GetValue(url)!),
                Timeout = TimeSpan.FromSeconds(60),
            };
            if (result.GetValue(apiKeyFile) is { } keyFile)
                client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ReadKey(keyFile));

            var table = new Table().AddColumns("clients", "requests", "errors", "req/s", "docs/s", "p50 ms", "p99 ms", "max ms");
            foreach (var clients in levels)
            {
                await RunAsync(client, path, texts, clients, perRequest, TimeSpan.FromSeconds(2), cancellationToken);
                var (stats, errors, lastError, elapsed) = await RunAsync(client, path, texts, clients, perRequest, TimeSpan.FromSeconds(result.GetValue(duration)), cancellationToken);
                if (stats.Count == 0)
                {
                    throw new InvalidOperationException(lastError is { } status
                        ? $"no request to {client.BaseAddress}{path.TrimStart('/')} succeeded ({errors} errors, the last {(int)status} {status}){(status == HttpStatusCode.Unauthorized ? "; the server wants an API key: pass --api-key-file" : "")}."
                        : $"no request to {client.BaseAddress}{path.TrimStart('/')} succeeded ({errors} errors); is `peftonnx serve` running there?");
                }
                table.AddRow(clients.ToString(), stats.Count.ToString(), errors.ToString(), $"{stats.Count / elapsed:F1}",
                    $"{stats.Count * perRequest / elapsed:F1}", $"{stats.Percentile(50):F2}", $"{stats.Percentile(99):F2}", $"{stats.Percentile(100):F2}");
                context.Progress.MarkupLine($"[grey]{clients} clients: {stats.Count / elapsed:F1} req/s[/]");
            }
            context.Results.Write(table);
            return 0;
        });
        return command;
    }

    private static string ReadKey(string path)
    {
        try
        {
            return ApiKeys.ReadFile(path)[0];
        }
        catch (InvalidOperationException e)
        {
            throw new UsageException($"--api-key-file: {e.Message}");
        }
    }

    private static async Task<(LatencySummary Stats, int Errors, HttpStatusCode? LastError, double Seconds)> RunAsync(
        HttpClient client, string path, IReadOnlyList<string> texts, int clients, int perRequest, TimeSpan duration, CancellationToken cancellationToken)
    {
        var stats = new LatencySummary();
        var errors = 0;
        var lastError = 0;
        var next = 0;
        var clock = Stopwatch.StartNew();
        var deadline = clock.Elapsed + duration;
        var workers = Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            var local = new List<double>();
            while (clock.Elapsed < deadline && !cancellationToken.IsCancellationRequested)
            {
                var batch = Enumerable.Range(0, perRequest).Select(_ => texts[(int)((uint)Interlocked.Increment(ref next) % texts.Count)]).ToArray();
                var started = Stopwatch.GetTimestamp();
                try
                {
                    using var response = await client.PostAsJsonAsync(path, new { texts = batch }, cancellationToken);
                    await response.Content.ReadAsByteArrayAsync(cancellationToken);
                    if (response.IsSuccessStatusCode)
                        local.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    else
                    {
                        Interlocked.Increment(ref errors);
                        Volatile.Write(ref lastError, (int)response.StatusCode);
                    }
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref errors);
                }
            }
            return local;
        }, cancellationToken)).ToArray();
        var samples = await Task.WhenAll(workers);
        var seconds = clock.Elapsed.TotalSeconds;
        foreach (var sample in samples.SelectMany(s => s))
            stats.Add(sample);
        return (stats, errors, lastError == 0 ? null : (HttpStatusCode)lastError, seconds);
    }
}
