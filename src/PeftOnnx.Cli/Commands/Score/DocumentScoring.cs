using System.Threading.Channels;
using PeftOnnx.Runtime.Documents;
using PeftOnnx.Runtime.Scoring;

namespace PeftOnnx.Cli.Commands.Score;

/// <summary>
/// The scoring pipeline shared by `score` and `demo`: a reader task walks the inputs, reads and tokenizes
/// documents into a bounded channel while the scorer runs the model on the previous group (so I/O and
/// tokenization hide behind inference); results come back in input order, skipped documents included.
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
        var documents = Channel.CreateBounded<ReadDocument>(new BoundedChannelOptions(4 * DocumentsPerCall) { SingleReader = true, SingleWriter = true });
        // Stops the reader task when scoring fails, so it is not left blocked on a full channel.
        using var stopReading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var producer = Task.Run(async () =>
        {
            try
            {
                foreach (var path in DocumentWalker.Walk(inputs))
                {
                    foreach (var document in reader.Read(path))
                        await documents.Writer.WriteAsync(new ReadDocument(document, document.IsSkipped ? null : scorer.Prepare(document.Text!)), stopReading.Token);
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
            var pending = new List<ReadDocument>();
            var readyCount = 0;
            await foreach (var document in documents.Reader.ReadAllAsync(cancellationToken))
            {
                pending.Add(document);
                if (document.Prepared is not null && ++readyCount == DocumentsPerCall)
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

    private static void Flush(List<ReadDocument> pending, ITextScorer scorer, Action<ScoreLine> onResult, bool includeEmbeddings, CancellationToken cancellationToken)
    {
        var ready = pending.Where(d => d.Prepared is not null).ToList();
        var prepared = ready.Select(d => d.Prepared!).ToList();
        var scores = scorer is Runtime.Adapters.IRoutedTextScorer routed
            ? routed.Score(prepared, [.. ready.Select(d => routed.Router.Route(d.Document.Path))], cancellationToken)
            : scorer.Score(prepared, cancellationToken);
        var next = 0;
        foreach (var document in pending.Select(d => d.Document))
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

    /// <summary>A document as read, with its windows when it is scorable.</summary>
    private sealed record ReadDocument(DocumentText Document, PreparedText? Prepared);
}
