using System.Threading.Channels;
using PeftOnnx.Runtime.Documents;
using PeftOnnx.Runtime.Scoring;

namespace PeftOnnx.Cli.Commands.Score;

/// <summary>
/// The scoring pipeline shared by `score` and `demo`: a reader task walks the inputs and reads documents
/// into a bounded channel while the scorer works on the previous group; results come back in input order,
/// skipped documents included.
/// </summary>
internal static class DocumentScoring
{
    private const int DocumentsPerCall = 64;

    public static async Task RunAsync(
        IEnumerable<string> inputs,
        DocumentReader reader,
        ITextScorer scorer,
        Action<ScoreLine> onResult,
        bool includeEmbeddings,
        CancellationToken cancellationToken)
    {
        var documents = Channel.CreateBounded<DocumentText>(new BoundedChannelOptions(4 * DocumentsPerCall) { SingleReader = true, SingleWriter = true });
        // Stops the reader task when scoring fails, so it is not left blocked on a full channel.
        using var stopReading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var producer = Task.Run(async () =>
        {
            try
            {
                foreach (var path in DocumentWalker.Walk(inputs))
                {
                    foreach (var document in reader.Read(path))
                        await documents.Writer.WriteAsync(document, stopReading.Token);
                }
                documents.Writer.Complete();
            }
            catch (Exception e)
            {
                documents.Writer.Complete(e);
            }
        }, CancellationToken.None);

        try
        {
            var pending = new List<DocumentText>();
            var readyCount = 0;
            await foreach (var document in documents.Reader.ReadAllAsync(cancellationToken))
            {
                pending.Add(document);
                if (!document.IsSkipped && ++readyCount == DocumentsPerCall)
                {
                    Flush(pending, scorer, onResult, includeEmbeddings, cancellationToken);
                    readyCount = 0;
                }
            }
            Flush(pending, scorer, onResult, includeEmbeddings, cancellationToken);
        }
        finally
        {
            await stopReading.CancelAsync();
            await producer;
        }
    }

    private static void Flush(List<DocumentText> pending, ITextScorer scorer, Action<ScoreLine> onResult, bool includeEmbeddings, CancellationToken cancellationToken)
    {
        var texts = pending.Where(d => !d.IsSkipped).Select(d => d.Text!).ToList();
        var scores = scorer is Runtime.Adapters.IRoutedTextScorer routed
            ? routed.Score(texts, [.. pending.Where(d => !d.IsSkipped).Select(d => routed.Router.Route(d.Path))], cancellationToken)
            : scorer.Score(texts, cancellationToken);
        var next = 0;
        foreach (var document in pending)
        {
            if (document.IsSkipped)
            {
                onResult(new ScoreLine(document.Path, "skipped", Reason: document.SkipReason));
                continue;
            }
            var score = scores[next++];
            onResult(new ScoreLine(
                document.Path,
                "ok",
                score.Label,
                score.Label is null ? null : score.Score,
                score.Probabilities is null ? null : scorer.Labels!.Select((l, i) => (l, i)).ToDictionary(p => p.l, p => score.Probabilities[p.i]),
                score.Chunks,
                score.Tokens,
                includeEmbeddings || score.Label is null ? score.Embedding : null));
        }
        pending.Clear();
    }
}
