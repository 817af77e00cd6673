using PeftOnnx.Runtime.Scoring;

namespace PeftOnnx.Cli.Commands.Score;

/// <summary>A scorer and the model it runs on; disposing releases the model.</summary>
internal sealed class ScoringModel(ITextScorer scorer, IDisposable model) : IDisposable
{
    public ITextScorer Scorer { get; } = scorer;

    public void Dispose() => model.Dispose();
}
