using TorchSharp;

namespace PeftOnnx.Training.Tests;

/// <summary>The patched libLibTorchSharp.so in bin/ loads on this machine and computes.</summary>
public sealed class TorchSharpLoadTests
{
    [Fact]
    public void Ones_loads_native_library_and_sums()
    {
        using var ones = torch.ones(2, 2);
        Assert.Equal(4f, ones.sum().item<float>());
    }

    [Fact]
    public void Shim_in_output_has_weak_glibcxx_requirement()
    {
        var shim = Directory.GetFiles(AppContext.BaseDirectory, "libLibTorchSharp.so", SearchOption.AllDirectories);
        Assert.NotEmpty(shim);
        foreach (var path in shim)
            Assert.True(ElfVersionNeeds.IsWeak(path, "GLIBCXX_3.4.32"), $"{path}: GLIBCXX_3.4.32 is still a hard requirement.");
    }
}
