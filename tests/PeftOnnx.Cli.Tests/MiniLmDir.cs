using PeftOnnx.Tests;

namespace PeftOnnx.Cli.Tests;

/// <summary>Class fixture: makes sure models/minilm-l6 is pulled once and hands out its folder.</summary>
public sealed class MiniLmDir
{
    public string Path { get; } = TestModels.EnsurePulled("minilm-l6");
}
