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

    /// <summary><see cref="Primary"/> with one classifier weight NaN: refused at load.</summary>
    public OrtAdapterFile PrimaryWithNaN() => PrimaryWithClassifier((weight, _) => weight[0] = float.NaN);

    /// <summary>
    /// <see cref="Primary"/> with finite classifier values that overflow every text's logits: rows 0 and 2 weigh every
    /// pooled feature p_i by float.MaxValue, with biases +MaxValue and -MaxValue, so logit 0 = Max·(Σp + 1) is +Inf when
    /// Σp &gt; 0 and logit 2 = Max·(Σp - 1) is -Inf when Σp &lt; 0.
    /// </summary>
    public OrtAdapterFile PrimaryOverflowing() => PrimaryWithClassifier((weight, bias) =>
    {
        var hidden = weight.Length / bias.Length;
        Array.Fill(weight, float.MaxValue, 0, hidden);
        Array.Fill(weight, float.MaxValue, 2 * hidden, hidden);
        (bias[0], bias[2]) = (float.MaxValue, -float.MaxValue);
    });

    private OrtAdapterFile PrimaryWithClassifier(Action<float[], float[]> change)
    {
        var parameters = OrtAdapterFile.Load(AdapterPath(Primary)).Parameters.ToDictionary(p => p.Name);
        var (weight, bias) = (parameters["classifier.weight"].ToFloat32(), parameters["classifier.bias"].ToFloat32());
        change(weight, bias);
        parameters["classifier.weight"] = OrtAdapterParameter.FromFloat32("classifier.weight", weight, parameters["classifier.weight"].Dims);
        parameters["classifier.bias"] = OrtAdapterParameter.FromFloat32("classifier.bias", bias, parameters["classifier.bias"].Dims);
        return new OrtAdapterFile([.. parameters.Values]);
    }

    public string AdapterPath(string name) => Path.Combine(Directory, SideGraphManifest.AdapterFolder, name + OrtAdapterFile.Extension);

    public void Dispose() => _temp.Dispose();
}

/// <summary>Test classes that share one exported side bundle (exporting takes a few seconds).</summary>
[CollectionDefinition("side-bundle")]
public sealed class SideBundleGroup : ICollectionFixture<SideBundleFixture>;
