using System.CommandLine;
using PeftOnnx.Hosting;

namespace PeftOnnx.Cli.Commands.Serve;

/// <summary>
/// `peftonnx serve`: the hosted worker (inbox folders, Redis queue consumer, HTTP API) in one process. Every option
/// maps to a configuration key, so the same settings can come from appsettings.json, PEFTONNX_ environment variables
/// or extra configuration arguments (--Worker:RescanSeconds=5); options given here win.
/// </summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model", "-m") { Description = "Bundle folder (or a pulled base model folder such as models/minilm-l6); a side-graph bundle serves its adapters by name. Worker:Model." };
        var adapter = new Option<string?>("--adapter") { Description = "Side-graph bundles: the adapter for inbox and queue documents and for requests naming none (default: the bundle's only adapter). Worker:Adapter." };
        var adaptersDir = new Option<string?>("--adapters-dir") { Description = "Side-graph bundles: folder of .onnx_adapter files, watched (default <bundle>/adapters). Worker:AdaptersDir." };
        var inbox = new Option<string[]>("--inbox") { Description = "Inbox folder, watched recursively; repeat for several. Worker:Inbox.", AllowMultipleArgumentsPerToken = false };
        var outbox = new Option<string?>("--outbox") { Description = "Results folder (results.jsonl or results/, processed/, failed/, ledger.db). Worker:Outbox." };
        var urls = new Option<string?>("--urls") { Description = $"HTTP API address (default {ServeHost.DefaultUrl}); 'none' turns the API off. Urls." };
        var apiKeyFile = new Option<string?>("--api-key-file") { Description = "File of API keys, one a line: HTTP requests must send one (Authorization: Bearer <key> or X-Api-Key). Http:ApiKeyFile." };
        var format = new Option<string?>("--format") { Description = "jsonl (one appended file) or json-files (one file per document; needed for --redis). Worker:OutboxFormat." };
        var followSymlinks = new Option<bool?>("--follow-symlinks") { Description = "Score symbolic links in the inbox that lead outside it (refused by default: moved to failed/ with the reason). Worker:FollowSymlinks." };
        var processed = new Option<string?>("--processed") { Description = "move (to <outbox>/processed, the default) or mark (leave in place; the ledger marks it). Worker:Processed." };
        var device = new Option<string?>("--device") { Description = "auto (CUDA if it loads, else CPU, with the reason logged), cpu or cuda. Worker:Device." };
        var deviceId = new Option<int?>("--device-id") { Description = "CUDA device ordinal. Worker:DeviceId." };
        var gpuMemory = new Option<long?>("--gpu-mem-limit-mb") { Description = "CUDA memory arena limit in MiB. Worker:GpuMemoryLimitMb." };
        var spin = new Option<bool?>("--spin-threads") { Description = "CPU: let idle ONNX Runtime threads spin (off by default: the server's other work shares the cores). Worker:SpinThreads." };
        var batchSize = new Option<int?>("--batch-size") { Description = "Documents per model call. Worker:BatchSize." };
        var labels = new Option<string?>("--labels") { Description = "Comma-separated labels for zero-shot classification with a base model. Worker:ZeroShotLabels." };
        var redis = new Option<string?>("--redis") { Description = "Consume jobs from this Redis (host:port), as one consumer of the group. Queue:Redis." };
        var consumer = new Option<string?>("--consumer") { Description = "Consumer name in the group (default host-pid). Queue:Consumer." };
        var skipVerify = new Option<bool?>("--skip-verify") { Description = "Serve a bundle whose files do not match the sha256 its bundle.json records. Worker:SkipVerify." };
        var config = new Option<string?>("--config") { Description = "Extra JSON settings file, read after appsettings.json." };
        var scorer = new Option<string?>("--scorer")
        {
            Description = "Diagnostics: 'hash' replaces the model with a deterministic hash scorer (tests, load tests). Worker:Scorer.",
            Hidden = true,
        };
        var command = new Command("serve", "Run the worker: score documents dropped into inbox folders, consume a Redis queue, and answer HTTP (POST /v1/classify, /v1/embed; GET /v1/adapters, /healthz, /readyz, /metrics).")
        {
            model, adapter, adaptersDir, inbox, outbox, urls, apiKeyFile, format, processed, followSymlinks, device, deviceId, gpuMemory, spin, batchSize, labels, redis, consumer, config, scorer, skipVerify,
        };
        // Unrecognised tokens are configuration arguments (--Worker:RescanSeconds=5, --Http:MaxBatch=64).
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (result, cancellationToken) =>
        {
            var overrides = new Dictionary<string, string?>();
            void Set(string key, string? value)
            {
                if (value is not null)
                    overrides[key] = value;
            }
            Set("Worker:Model", result.GetValue(model));
            Set("Worker:Adapter", result.GetValue(adapter));
            Set("Worker:AdaptersDir", result.GetValue(adaptersDir));
            var inboxes = result.GetValue(inbox) ?? [];
            for (var i = 0; i < inboxes.Length; i++)
                overrides[$"Worker:Inbox:{i}"] = inboxes[i];
            Set("Worker:Outbox", result.GetValue(outbox));
            Set("Worker:OutboxFormat", result.GetValue(format)?.Replace("-", "", StringComparison.Ordinal));
            Set("Worker:Processed", result.GetValue(processed));
            Set("Worker:FollowSymlinks", result.GetValue(followSymlinks)?.ToString());
            Set("Worker:Device", result.GetValue(device));
            Set("Worker:DeviceId", result.GetValue(deviceId)?.ToString());
            Set("Worker:GpuMemoryLimitMb", result.GetValue(gpuMemory)?.ToString());
            Set("Worker:SpinThreads", result.GetValue(spin)?.ToString());
            Set("Worker:BatchSize", result.GetValue(batchSize)?.ToString());
            Set("Worker:Scorer", result.GetValue(scorer));
            Set("Worker:SkipVerify", result.GetValue(skipVerify)?.ToString());
            var zeroShot = result.GetValue(labels)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];
            for (var i = 0; i < zeroShot.Length; i++)
                overrides[$"Worker:ZeroShotLabels:{i}"] = zeroShot[i];
            Set("Http:ApiKeyFile", result.GetValue(apiKeyFile));
            Set("Queue:Redis", result.GetValue(redis));
            Set("Queue:Consumer", result.GetValue(consumer));
            if (result.GetValue(urls) is { } u)
            {
                if (u.Equals("none", StringComparison.OrdinalIgnoreCase))
                    overrides["Http:Enabled"] = "false";
                else
                    overrides["Urls"] = u;
            }

            try
            {
                await ServeHost.RunAsync([.. result.UnmatchedTokens], overrides, result.GetValue(config), cancellationToken);
                return 0;
            }
            catch (InvalidOperationException e)
            {
                await Console.Error.WriteLineAsync($"peftonnx serve: {e.Message}");
                return 2;
            }
        });
        return command;
    }
}
