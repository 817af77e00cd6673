using PeftOnnx.Hosting.Pipeline;
using PeftOnnx.Hosting.Worker;
using PeftOnnx.Runtime.Documents;

namespace PeftOnnx.Hosting.Queue;

/// <summary>
/// `peftonnx enqueue &lt;folder&gt;`: one job per file under the folder (streamed, recursive), with the document id
/// (path relative to the folder), the absolute path (workers must see the same path) and the content hash.
/// </summary>
public static class FolderEnqueuer
{
    public static async Task<int> EnqueueAsync(
        RedisStreamQueue queue, string folder, long maxDocumentBytes, IProgress<int>? progress, CancellationToken cancellationToken)
    {
        var root = Path.GetFullPath(folder);
        var count = 0;
        var reader = new DocumentReader(new DocumentReaderOptions { MaxBytes = maxDocumentBytes });
        foreach (var path in DocumentWalker.Walk([root]))
        {
            cancellationToken.ThrowIfCancellationRequested();
            // The hash lets a worker see at once that a re-delivered job already has its result. Files that hold
            // several documents (.jsonl, .csv) or cannot be read get none; the worker records what it finds.
            var documents = reader.Read(path).Take(2).ToList();
            var hash = documents is [{ IsSkipped: false } single] && single.Path == path ? ContentHash.Of(single.Text!) : "";
            await queue.EnqueueAsync(new QueueJob(DocumentIds.For(root, path), path, hash));
            progress?.Report(++count);
        }
        return count;
    }
}
