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
    public static async Task<int> EnqueueAsync(RedisStreamQueue queue, string folder, long maxDocumentBytes, IProgress<int>? progress, CancellationToken cancellationToken)
    {
        var root = Path.GetFullPath(folder);
        var count = 0;
        foreach (var path in DocumentWalker.Walk(root))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var document = DocumentReader.Read(path, maxDocumentBytes);
            // Unreadable files are still enqueued: the worker records why, so every file ends with a result or a reason.
            var hash = document.IsSkipped ? "" : ContentHash.Of(document.Text!);
            await queue.EnqueueAsync(new QueueJob(DocumentIds.For(root, path), path, hash));
            progress?.Report(++count);
        }
        return count;
    }
}
