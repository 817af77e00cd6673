namespace PeftOnnx.Cli.Commands.Demo;

/// <summary>
/// What `peftonnx demo` runs: the base model (pulled when missing), the shipped debian-sections adapter merged
/// into it, and the zero-shot labels used when no toolchain is at hand to build that bundle.
/// </summary>
internal static class DemoDefaults
{
    /// <summary>Base model name (pulled when missing) or a bundle folder relative to the repository.</summary>
    public const string Model = "minilm-l6";

    /// <summary>The LoRA adapter (r=8, query+value, + classifier) trained on data/debian-sections, shipped in the repository.</summary>
    public const string AdapterFolder = "models/adapters/debian-sections-lora-r8";

    /// <summary>Where the first demo run merges <see cref="AdapterFolder"/> into <see cref="Model"/> (git-ignored).</summary>
    public const string BundleFolder = "models/bundles/debian-sections-lora-r8";

    /// <summary>The toolchain that builds <see cref="BundleFolder"/> (the runtime itself never rewrites ONNX).</summary>
    public const string ExporterProject = "export-tools/PeftOnnx.Export.Cli/PeftOnnx.Export.Cli.csproj";

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
