namespace PeftOnnx.Cli.Commands.Demo;

/// <summary>
/// What `peftonnx demo` runs: the model and labels in one place, so switching the demo to the fine-tuned
/// debian-sections adapter bundle is a change here (set <see cref="Model"/> to the bundle folder; a
/// classification bundle brings its own labels and the zero-shot prompts are ignored).
/// </summary>
internal static class DemoDefaults
{
    /// <summary>Base model name (pulled when missing) or a bundle folder relative to the repository.</summary>
    public const string Model = "minilm-l6";

    /// <summary>Sample documents shipped in the repository (samples/.sources.tsv lists their expected sections).</summary>
    public const string SamplesFolder = "samples";

    public const string SourcesFile = ".sources.tsv";

    /// <summary>The 12 debian-sections labels and the text each one is embedded as for zero-shot classification.</summary>
    public static IReadOnlyList<(string Label, string Prompt)> ZeroShotLabels { get; } =
    [
        ("admin", "system administration tools and utilities"),
        ("database", "database server and client software"),
        ("editors", "text editors and development environments"),
        ("electronics", "electronics and circuit design and simulation"),
        ("games", "games and entertainment"),
        ("graphics", "graphics, image editing and drawing"),
        ("mail", "email servers, mail clients and spam filtering"),
        ("math", "mathematics and numerical computation"),
        ("net", "networking, servers and network protocols"),
        ("science", "scientific research software, biology and chemistry"),
        ("sound", "audio, music and sound processing"),
        ("video", "video playback, recording and editing"),
    ];
}
