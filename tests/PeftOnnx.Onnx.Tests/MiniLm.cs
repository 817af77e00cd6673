using Onnx;
using PeftOnnx.Onnx;

namespace PeftOnnx.Onnx.Tests;

/// <summary>The minilm-l6 base model (models/minilm-l6), loaded once per test run; tests that change it work on a clone.</summary>
internal static class MiniLm
{
    private static readonly Lazy<ModelProto> Loaded = new(() => OnnxModelFile.Load(ModelPath));

    public static string ModelPath => Path.Combine(PeftOnnx.Tests.TestPaths.RepoRoot, "models", "minilm-l6", "model.onnx");

    public static string VocabPath => Path.Combine(PeftOnnx.Tests.TestPaths.RepoRoot, "models", "minilm-l6", "vocab.txt");

    /// <summary>The shared instance: read it, never change it.</summary>
    public static ModelProto Model => Loaded.Value;

    public static ModelProto Clone() => Model.Clone();
}
