namespace PeftOnnx.Runtime.Evaluation;

/// <summary>
/// One evaluation item: where it came from, its text and its gold label; a multi-label item (<c>"labels": [...]</c>)
/// has its gold labels in <see cref="Labels"/> (maybe none) and <see cref="Label"/> "".
/// </summary>
public sealed record LabelledExample(string Id, string Text, string Label)
{
    /// <summary>The gold labels of a multi-label item; null for a single-label one.</summary>
    public IReadOnlyList<string>? Labels { get; init; }
}
