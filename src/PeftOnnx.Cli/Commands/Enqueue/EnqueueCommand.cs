using System.CommandLine;
using PeftOnnx.Hosting.Queue;
using Spectre.Console;

namespace PeftOnnx.Cli.Commands.Enqueue;

/// <summary>
/// `peftonnx enqueue &lt;folder&gt;`: one Redis stream job per file under the folder, for `peftonnx serve --redis`
/// workers on any machine that sees the same paths.
/// </summary>
internal static class EnqueueCommand
{
    public static Command Create()
    {
        var folder = new Argument<string>("folder") { Description = "Folder of documents (walked recursively); workers must see it at the same path." };
        var redis = new Option<string>("--redis") { Description = "Redis to enqueue on (host:port).", DefaultValueFactory = _ => "127.0.0.1:6379" };
        var stream = new Option<string>("--stream") { Description = "Stream name (Queue:Stream of the workers).", DefaultValueFactory = _ => new QueueOptions().Stream };
        var group = new Option<string>("--group") { Description = "Consumer group (Queue:Group of the workers); created if missing.", DefaultValueFactory = _ => new QueueOptions().Group };
        var maxBytes = new Option<long>("--max-bytes") { Description = "Files larger than this get no content hash (the worker rejects them).", DefaultValueFactory = _ => 10 * 1024 * 1024 };
        var command = new Command("enqueue", "Put one job per document file on a Redis stream for `peftonnx serve --redis` workers.")
        {
            folder, redis, stream, group, maxBytes,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            var root = result.GetValue(folder)!;
            if (!Directory.Exists(root))
            {
                await Console.Error.WriteLineAsync($"peftonnx enqueue: {root} is not a folder; pass the folder holding the documents.");
                return 2;
            }
            var options = new QueueOptions { Redis = result.GetValue(redis), Stream = result.GetValue(stream)!, Group = result.GetValue(group)! };
            try
            {
                await using var queue = await RedisStreamQueue.ConnectAsync(options);
                var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
                var count = 0;
                await console.Status().StartAsync("enqueueing", async status =>
                {
                    var progress = new Progress<int>(n => status.Status($"enqueued {n} documents"));
                    count = await FolderEnqueuer.EnqueueAsync(queue, root, result.GetValue(maxBytes), progress, cancellationToken);
                });
                Console.WriteLine($"enqueued {count} documents from {Path.GetFullPath(root)} on {options.Stream} ({options.Redis})");
                return 0;
            }
            catch (InvalidOperationException e)
            {
                await Console.Error.WriteLineAsync($"peftonnx enqueue: {e.Message}");
                return 2;
            }
        });
        return command;
    }
}
