namespace PeftOnnx.Training.Data;

/// <summary>One training document: its text, its label, and where it came from (for error messages).</summary>
public sealed record LabeledText(string Text, string Label, string Source);
