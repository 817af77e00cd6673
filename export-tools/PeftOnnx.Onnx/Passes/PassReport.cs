namespace PeftOnnx.Onnx.Passes;

/// <summary>What one pass did: how many rewrites it made, a one-line summary, and every near-match it left alone with the reason.</summary>
public sealed record PassReport(string Pass, int Changed, string Summary, IReadOnlyList<string> Unhandled)
{
    /// <summary>A report of <paramref name="changed"/> rewrites and the near-matches left.</summary>
    public static PassReport Of(IGraphPass pass, int changed, string summary, IReadOnlyList<string>? unhandled = null)
    {
        ArgumentNullException.ThrowIfNull(pass);
        return new PassReport(pass.Name, changed, summary, unhandled ?? []);
    }

    public override string ToString() =>
        Unhandled.Count == 0 ? $"{Pass}: {Summary}" : $"{Pass}: {Summary}, left {Unhandled.Count} ({string.Join("; ", Unhandled)})";
}
