namespace PeftOnnx.Runtime.Evaluation;

/// <summary>One evaluation item: where it came from, its text and its gold label.</summary>
public sealed record LabelledExample(string Id, string Text, string Label);
