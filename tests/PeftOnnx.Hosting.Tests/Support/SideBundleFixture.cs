using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.OrtAdapters;
using PeftOnnx.Onnx.Export;
using PeftOnnx.Tests;

namespace PeftOnnx.Hosting.Tests.Support;

/// <summary>
/// A mixed-form side-graph bundle on minilm-l6, exported once per test class from the seqcls_lora_qv_r8 golden, with two
/// adapters: <see cref="Primary"/> and <see cref="Reversed"/> (the same LoRA with its classifier rows reversed, so its
/// probabilities come out in reversed label order: a visible difference between the two).
/// </summary>
public sealed class SideBundleFixture : IDisposable
{
    public const string Primary = "seqcls_lora_qv_r8";
    public const string Reversed = "tenant2";

    private readonly TempFolder _temp = new("side-bundle");

    public SideBundleFixture()
    {
        Directory = new SideBundleExporter().Export(new SideBundleOptions
        {
            BaseDirectory = TestModels.EnsurePulled("minilm-l6"),
            AdapterDirectories = [TestPaths.Fixture("peft", Primary)],
            OutputDirectory = _temp.Combine("mixed"),
            Form = SideGraphManifest.MixedForm,
        }).Directory;
        var primary = OrtAdapterFile.Load(AdapterPath(Primary));
        var reversed = primary.Parameters.Select(p => p.Name.StartsWith("classifier.", StringComparison.Ordinal) ? ReverseRows(p) : p).ToList();
        new OrtAdapterFile(reversed).Save(AdapterPath(Reversed));
    }

    public string Directory { get; }

    public string AdapterPath(string name) => Path.Combine(Directory, SideGraphManifest.AdapterFolder, name + OrtAdapterFile.Extension);

    public void Dispose() => _temp.Dispose();

    private static OrtAdapterParameter ReverseRows(OrtAdapterParameter weight)
    {
        var values = weight.ToFloat32();
        var (rows, cols) = ((int)weight.Dims[0], weight.Dims.Length == 2 ? (int)weight.Dims[1] : 1);
        var reversed = new float[values.Length];
        for (var r = 0; r < rows; r++)
            Array.Copy(values, (rows - 1 - r) * cols, reversed, r * cols, cols);
        return OrtAdapterParameter.FromFloat32(weight.Name, reversed, weight.Dims);
    }
}

/// <summary>Test classes that share one exported side bundle (exporting takes a few seconds).</summary>
[CollectionDefinition("side-bundle")]
public sealed class SideBundleGroup : ICollectionFixture<SideBundleFixture>;
