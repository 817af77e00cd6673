using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.Hashing;
using PeftOnnx.Core.Json;
using PeftOnnx.Core.Models;
using PeftOnnx.Runtime.Inference;
using PeftOnnx.Runtime.Sessions;
using PeftOnnx.Runtime.Tokenization;
using PeftOnnx.Tests;
using Xunit.Abstractions;

namespace PeftOnnx.Runtime.Tests.Inference;

/// <summary>minilm-l6 copied into a bundle folder and sealed as the exporter seals it (<see cref="BundleFiles.Seal"/>).</summary>
public sealed class SealedBundleFixture : IDisposable
{
    public SealedBundleFixture()
    {
        var source = TestModels.EnsurePulled("minilm-l6");
        Directory = System.IO.Directory.CreateTempSubdirectory("peftonnx-sealed-").FullName;
        foreach (var file in new[] { "model.onnx", "vocab.txt" })
            BundleCopy.File(Path.Combine(source, file), Path.Combine(Directory, file));
        var manifest = BundleManifest.FromBaseModel(PeftJson.Load<ModelManifest>(Path.Combine(source, ModelManifest.FileName)));
        PeftJson.Save(Path.Combine(Directory, BundleManifest.FileName), manifest);
        Manifest = BundleFiles.Seal(Directory);
    }

    public string Directory { get; }

    public BundleManifest Manifest { get; }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}

public sealed class BundleLoadingTests(SealedBundleFixture bundle, ITestOutputHelper output) : IClassFixture<SealedBundleFixture>, IDisposable
{
    private static readonly SessionSettings Cpu = new() { Device = DeviceKind.Cpu, IntraOpThreads = 1 };
    private readonly string _folder = Directory.CreateTempSubdirectory("peftonnx-bundle-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void A_sealed_bundle_records_every_file_and_loads()
    {
        Assert.Equal(["model.onnx", "vocab.txt"], bundle.Manifest.Files!.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(FileSha256.Of(Path.Combine(bundle.Directory, "vocab.txt")), bundle.Manifest.Files!["vocab.txt"]);
        using var model = OnnxModel.Load(bundle.Directory, Cpu);
        var batch = TokenBatch.Create([model.Tokenizer.Encode("a sealed bundle", 16)], model.Tokenizer.PadId);
        Assert.Equal(384, model.Embed(batch).Single().Length);
    }

    [Fact]
    public void A_changed_file_is_refused_naming_both_hashes_unless_verification_is_skipped()
    {
        var vocab = Path.Combine(bundle.Directory, "vocab.txt");
        var original = File.ReadAllBytes(vocab);
        try
        {
            // Replaced, never changed in place: the bundle's vocab.txt is a hard link to models/minilm-l6/vocab.txt.
            BundleCopy.Replace(vocab, [.. original, (byte)'\n']);
            var error = Assert.Throws<InvalidDataException>(() => OnnxModel.Load(bundle.Directory, Cpu));
            output.WriteLine(error.Message);
            Assert.Contains($"its sha256 is {FileSha256.Of(vocab)}, bundle.json records {bundle.Manifest.Files!["vocab.txt"]}", error.Message, StringComparison.Ordinal);
            Assert.Contains("--skip-verify", error.Message, StringComparison.Ordinal);
            using var model = OnnxModel.Load(bundle.Directory, Cpu, verify: false);
            Assert.NotNull(model);
        }
        finally
        {
            BundleCopy.Replace(vocab, original);
        }
    }

    [Fact]
    public void A_max_length_beyond_the_position_table_is_refused_at_load()
    {
        var path = Path.Combine(bundle.Directory, BundleManifest.FileName);
        try
        {
            PeftJson.Save(path, bundle.Manifest with { Tokenizer = bundle.Manifest.Tokenizer with { MaxLength = 1024 } });
            var error = Assert.Throws<InvalidDataException>(() => OnnxModel.Load(bundle.Directory, Cpu));
            output.WriteLine(error.Message);
            Assert.StartsWith($"{path}: max_length 1024 is more than {Path.Combine(bundle.Directory, "model.onnx")} can run", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            PeftJson.Save(path, bundle.Manifest);
        }
    }

    [Theory]
    [InlineData("../model.onnx")]
    [InlineData("/etc/passwd")]
    [InlineData("sub/model.onnx")]
    public void A_model_path_leaving_the_bundle_is_refused(string model)
    {
        WriteFakeBundle(Fake() with { Model = model });
        var error = Assert.Throws<InvalidDataException>(() => ModelFolder.Open(_folder));
        output.WriteLine(error.Message);
        Assert.Contains($"\"model\" is \"{model}\"; it must be the name of a file in the bundle folder", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_vocabulary_linked_from_outside_the_bundle_is_refused()
    {
        var outside = Directory.CreateTempSubdirectory("peftonnx-outside-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(outside, "vocab.txt"), "[PAD]\n");
            WriteFakeBundle(Fake());
            File.Delete(Path.Combine(_folder, "vocab.txt"));
            File.CreateSymbolicLink(Path.Combine(_folder, "vocab.txt"), Path.Combine(outside, "vocab.txt"));
            var error = Assert.Throws<InvalidDataException>(() => ModelFolder.Open(_folder, verify: false));
            Assert.Contains("a link to", error.Message, StringComparison.Ordinal);
            Assert.Contains("outside the bundle folder", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(outside, recursive: true);
        }
    }

    [Fact]
    public void A_bundle_that_lists_no_hash_for_its_model_is_refused()
    {
        WriteFakeBundle(Fake());
        var sealedManifest = BundleFiles.Seal(_folder);
        PeftJson.Save(Path.Combine(_folder, BundleManifest.FileName), sealedManifest with { Files = sealedManifest.Files!.Where(f => f.Key != "model.onnx").ToDictionary() });
        var error = Assert.Throws<InvalidDataException>(() => ModelFolder.Open(_folder));
        Assert.Contains("records no sha256 for model.onnx", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bundle_exported_before_hashes_loads_with_a_warning()
    {
        WriteFakeBundle(Fake());
        var logger = new ListLogger();
        var folder = ModelFolder.Open(_folder, logger: logger);
        Assert.Null(folder.Manifest.Files);
        var warning = Assert.Single(logger.Messages);
        output.WriteLine(warning);
        Assert.StartsWith("Warning: ", warning, StringComparison.Ordinal);
        Assert.Contains("records no file hashes", warning, StringComparison.Ordinal);
    }

    [Fact]
    public void A_fifo_in_place_of_the_model_or_the_manifest_is_refused_at_once()
    {
        if (!OperatingSystem.IsLinux())
            return;
        WriteFakeBundle(Fake());
        var model = Path.Combine(_folder, "model.onnx");
        File.Delete(model);
        SpecialFiles.Fifo(model);
        var error = SpecialFiles.Promptly(() => Assert.Throws<IOException>(() => OnnxModel.Load(_folder, Cpu, verify: false)));
        Assert.Contains("is not a regular file (a FIFO)", error.Message, StringComparison.Ordinal);

        var manifest = Path.Combine(_folder, BundleManifest.FileName);
        File.Delete(manifest);
        SpecialFiles.Fifo(manifest);
        error = SpecialFiles.Promptly(() => Assert.Throws<IOException>(() => OnnxModel.Load(_folder, Cpu)));
        Assert.Contains($"{manifest} is not a regular file (a FIFO)", error.Message, StringComparison.Ordinal);
    }

    private static BundleManifest Fake() => new()
    {
        Name = "fake",
        Task = BundleTask.FeatureExtraction,
        Tokenizer = new TokenizerSettings(),
        Provenance = new BundleProvenance { Tool = "test" },
    };

    /// <summary>A bundle folder whose model.onnx is not a model: enough for everything checked before ONNX Runtime loads it.</summary>
    private void WriteFakeBundle(BundleManifest manifest)
    {
        File.WriteAllText(Path.Combine(_folder, "model.onnx"), "not an onnx model");
        File.WriteAllText(Path.Combine(_folder, "vocab.txt"), "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\na\n");
        PeftJson.Save(Path.Combine(_folder, BundleManifest.FileName), manifest);
    }
}
