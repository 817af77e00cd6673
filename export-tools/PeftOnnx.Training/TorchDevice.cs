using TorchSharp;

namespace PeftOnnx.Training;

/// <summary>Picks the libtorch device: auto = CUDA when the referenced TorchSharp build reports a GPU, else CPU.</summary>
public static class TorchDevice
{
    public static torch.Device Select(string name) => name.ToLowerInvariant() switch
    {
        "cpu" => torch.CPU,
        "cuda" when torch.cuda.is_available() => torch.CUDA,
        "cuda" => throw new InvalidOperationException("--device cuda: TorchSharp reports no CUDA device. This build references TorchSharp-cpu; build with -p:TorchFlavor=Cuda (TorchSharp-cuda-linux) on a machine with a GPU, or use --device cpu."),
        "auto" => torch.cuda.is_available() ? torch.CUDA : torch.CPU,
        _ => throw new ArgumentException($"--device should be auto, cpu or cuda, got '{name}'."),
    };
}
