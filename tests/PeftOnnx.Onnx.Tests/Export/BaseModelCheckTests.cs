using System.CommandLine;
using System.Text.Json.Nodes;
using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.Json;
using PeftOnnx.Core.Models;
using PeftOnnx.Core.OrtAdapters;
using PeftOnnx.Export.Cli.Commands.Export;
using PeftOnnx.Onnx.Export;
using PeftOnnx.Onnx.Tests.Side;
using PeftOnnx.Runtime.Adapters;
using PeftOnnx.Tests;
using Xunit.Abstractions;

namespace PeftOnnx.Onnx.Tests.Export;

/// <summary>
/// An adapter made for another base is refused at export and at hot-load, naming both bases (issue 12, failure 7);
/// target_modules that select nothing is an error (failure 11).
/// </summary>
public sealed class BaseModelCheckTests(ITestOutputHelper output) : IDisposable
{
    // arctic-xs's model.onnx, as models/arctic-xs/model.json records it: same shapes as minilm-l6, other weights.
    private const string ArcticSha256 = "cf2698d30ff05da02c70a088313bad56e5c2f401d734cb24a8390d446111936c";

    private readonly TempFolder _tmp = new();

    public void Dispose() => _tmp.Dispose();

    private static int Run(params string[] args) => new RootCommand { ExportCommand.Create() }.Parse(args).Invoke();

    private string Adapter(string name, string? baseModelNameOrPath = null, string? trainingJson = null)
    {
        var dir = AdapterFixtures.CopyGolden("seqcls_lora_qv_r8", _tmp.Combine(name));
        if (baseModelNameOrPath is not null)
        {
            var config = PeftAdapterConfig.ReadObject(Path.Combine(dir, PeftAdapterConfig.FileName));
            config["base_model_name_or_path"] = baseModelNameOrPath;
            File.WriteAllText(Path.Combine(dir, PeftAdapterConfig.FileName), config.ToJsonString());
        }
        if (trainingJson is not null)
            File.WriteAllText(Path.Combine(dir, "training.json"), trainingJson);
        return dir;
    }

    private BundleExportResult Export(string adapter, bool allow = false) => new BundleExporter().Export(new BundleExportOptions
    {
        BaseDirectory = AdapterFixtures.BaseModelDirectory,
        AdapterDirectory = adapter,
        OutputDirectory = _tmp.Combine("bundle"),
        AllowBaseMismatch = allow,
        Force = true,
    });

    [Fact]
    public void Training_json_of_another_base_is_refused_naming_both_and_the_flag_overrides()
    {
        var adapter = Adapter("arctic-trained", trainingJson: $$"""{"base_model": "arctic-xs", "base_model_sha256": "{{ArcticSha256}}", "labels": []}""");
        var e = Assert.Throws<InvalidDataException>(() => Export(adapter));
        output.WriteLine(e.Message);
        Assert.Contains("arctic-xs", e.Message, StringComparison.Ordinal);
        Assert.Contains("minilm-l6", e.Message, StringComparison.Ordinal);
        Assert.Contains(AdapterBaseCheck.OverrideFlag, e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_tmp.Combine("bundle")));

        var allowed = Export(adapter, allow: true);
        Assert.Contains(allowed.Warnings, w => w.Contains("arctic-xs", StringComparison.Ordinal));
        Assert.True(File.Exists(Path.Combine(allowed.Directory, "model.onnx")));
    }

    [Fact]
    public void Training_json_of_this_base_exports()
    {
        var sha = TestModels.Catalog.Get("minilm-l6").Files.Single(f => f.Name == "model.onnx").Sha256;
        var result = Export(Adapter("minilm-trained", trainingJson: $$"""{"base_model": "minilm-l6", "base_model_sha256": "{{sha}}"}"""));
        Assert.Empty(result.Warnings);
    }

    [Theory]
    [InlineData("sentence-transformers/all-MiniLM-L6-v2")]
    [InlineData("/home/someone/models/all-MiniLM-L6-v2/")]
    [InlineData("minilm-l6")]
    public void A_PEFT_adapter_naming_this_base_exports(string baseModelNameOrPath)
    {
        var result = Export(Adapter("named", baseModelNameOrPath));
        Assert.Equal(12, result.MergedModules.Count);
    }

    [Fact]
    public void A_PEFT_adapter_naming_another_base_is_refused_by_the_cli_unless_allowed()
    {
        var adapter = Adapter("arctic-named", "Snowflake/snowflake-arctic-embed-xs");
        var e = Assert.Throws<InvalidDataException>(() => Export(adapter));
        output.WriteLine(e.Message);
        Assert.Contains("Snowflake/snowflake-arctic-embed-xs", e.Message, StringComparison.Ordinal);
        Assert.Contains("sentence-transformers/all-MiniLM-L6-v2", e.Message, StringComparison.Ordinal);

        Assert.Equal(1, Run("export", "--base", AdapterFixtures.BaseModelDirectory, "--adapter", adapter, "--out", _tmp.Combine("cli")));
        Assert.False(Directory.Exists(_tmp.Combine("cli")));
        Assert.Equal(0, Run("export", "--base", AdapterFixtures.BaseModelDirectory, "--adapter", adapter, "--out", _tmp.Combine("cli"), AdapterBaseCheck.OverrideFlag));
    }

    [Fact]
    public void Side_export_refuses_another_base_and_a_side_bundle_refuses_an_adapter_converted_for_another_base()
    {
        var foreign = Adapter("arctic-named", "Snowflake/snowflake-arctic-embed-xs");
        var e = Assert.Throws<InvalidDataException>(() => new SideBundleExporter().Export(new SideBundleOptions
        {
            BaseDirectory = SideBundles.BaseDirectory,
            AdapterDirectories = [foreign],
            OutputDirectory = _tmp.Combine("side-foreign"),
        }));
        Assert.Contains("Snowflake/snowflake-arctic-embed-xs", e.Message, StringComparison.Ordinal);

        var bundle = SideBundles.ExportSide(_tmp, SideGraphManifest.SideForm, "seqcls_lora_qv_r8");
        var side = PeftJson.Load<SideGraphManifest>(Path.Combine(bundle, SideGraphManifest.FileName));
        var adapters = Path.Combine(bundle, SideGraphManifest.AdapterFolder);
        var converted = OrtAdapterFile.Load(Path.Combine(adapters, "seqcls_lora_qv_r8" + OrtAdapterFile.Extension));
        Assert.Equal(side.BaseIdentity().Fingerprint, converted.ModelVersion);
        Assert.NotEqual(0, converted.ModelVersion);

        // The same weights converted by an arctic-xs side bundle: the shapes fit, the base does not.
        new OrtAdapterFile(converted.Parameters, modelVersion: BaseModelIdentity.FingerprintOf(ArcticSha256)).Save(Path.Combine(adapters, "from-arctic" + OrtAdapterFile.Extension));
        using var registry = new AdapterRegistry(adapters, side, watch: false);
        output.WriteLine(registry.Errors["from-arctic"]);
        Assert.Contains("another base model", registry.Errors["from-arctic"], StringComparison.Ordinal);
        Assert.Contains("minilm-l6", registry.Errors["from-arctic"], StringComparison.Ordinal);
        Assert.True(registry.Adapters.ContainsKey("seqcls_lora_qv_r8"));

        // Converting for this bundle checks the base too; the override stamps this bundle's base.
        Assert.Throws<InvalidDataException>(() => SideBundleExporter.WriteAdapter(bundle, foreign, "forced"));
        var forced = SideBundleExporter.WriteAdapter(bundle, foreign, "forced", allowBaseMismatch: true);
        Assert.Equal(side.BaseIdentity().Fingerprint, OrtAdapterFile.Load(forced).ModelVersion);
    }

    [Fact]
    public void Target_modules_that_match_nothing_is_an_error_naming_the_patterns_and_the_modules()
    {
        var adapter = Adapter("no-targets");
        var config = PeftAdapterConfig.ReadObject(Path.Combine(adapter, PeftAdapterConfig.FileName));
        config["target_modules"] = new JsonArray("q_proj", "v_proj");
        File.WriteAllText(Path.Combine(adapter, PeftAdapterConfig.FileName), config.ToJsonString());
        var e = Assert.Throws<InvalidDataException>(() => Export(adapter));
        output.WriteLine(e.Message);
        Assert.Contains("[q_proj, v_proj]", e.Message, StringComparison.Ordinal);
        Assert.Contains("attention.self.query", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_tmp.Combine("bundle")));
    }
}
