namespace PeftOnnx.Training.Data;

/// <summary>
/// One training document: its text, its label, and where it came from (for error messages). A multi-label row
/// (<c>"labels": [...]</c>) also carries <see cref="Labels"/>, possibly empty (a document with none of the labels);
/// its <see cref="Label"/> is then the first of them ("" when none), which only the stratified dev split groups by.
/// </summary>
public sealed record LabeledText(string Text, string Label, string Source)
{
    /// <summary>The document's labels when the row is multi-label; null for a single-label row.</summary>
    public IReadOnlyList<string>? Labels { get; init; }
}
