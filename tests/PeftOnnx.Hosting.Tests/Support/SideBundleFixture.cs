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
        ReversedTenant.Of(OrtAdapterFile.Load(AdapterPath(Primary))).Save(AdapterPath(Reversed));
    }

    public string Directory { get; }

    public string AdapterPath(string name) => Path.Combine(Directory, SideGraphManifest.AdapterFolder, name + OrtAdapterFile.Extension);

    public void Dispose() => _temp.Dispose();
}

/// <summary>Test classes that share one exported side bundle (exporting takes a few seconds).</summary>
[CollectionDefinition("side-bundle")]
public sealed class SideBundleGroup : ICollectionFixture<SideBundleFixture>;
