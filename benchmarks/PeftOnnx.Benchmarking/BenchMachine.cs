using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using PeftOnnx.Runtime.Sessions;

namespace PeftOnnx.Benchmarking;

/// <summary>The machine and software a table was measured on, printed with every table.</summary>
public static class BenchMachine
{
    public static IReadOnlyList<string> Describe()
    {
        var lines = new List<string>
        {
            $"cpu: {MachineInfo.CpuModel}, {MachineInfo.PhysicalCores} physical cores, {MachineInfo.LogicalProcessors} logical; {CpuFeatures()}",
            $"os: {RuntimeInformation.OSDescription}; .NET {Environment.Version}; ONNX Runtime {OrtEnv.Instance().GetVersionString()} (providers: {string.Join(", ", OrtEnv.Instance().GetAvailableProviders())})",
        };
        if (Gpus() is { Count: > 0 } gpus)
            lines.Add($"gpu: {string.Join("; ", gpus)}");
        return lines;
    }

    /// <summary>The instruction sets int8 and fp32 kernels dispatch on (from /proc/cpuinfo flags).</summary>
    private static string CpuFeatures()
    {
        const string path = "/proc/cpuinfo";
        if (!File.Exists(path))
            return "cpu flags unknown";
        var flags = File.ReadLines(path).FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal))?.Split(':', 2)[1].Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet() ?? [];
        string[] interesting = ["avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_int8", "amx_bf16"];
        var present = interesting.Where(flags.Contains).ToList();
        return present.Count == 0 ? "no AVX2/AVX-512/AMX" : string.Join(" ", present);
    }

    /// <summary>GPU names from the NVIDIA driver's proc files (no CUDA call needed).</summary>
    private static List<string> Gpus()
    {
        const string root = "/proc/driver/nvidia/gpus";
        var gpus = new List<string>();
        if (!Directory.Exists(root))
            return gpus;
        foreach (var info in Directory.EnumerateDirectories(root).Select(d => Path.Combine(d, "information")).Where(File.Exists))
        {
            var model = File.ReadLines(info).FirstOrDefault(l => l.StartsWith("Model:", StringComparison.Ordinal));
            if (model is not null)
                gpus.Add(model["Model:".Length..].Trim());
        }
        if (File.Exists("/proc/driver/nvidia/version"))
            gpus.Add(File.ReadLines("/proc/driver/nvidia/version").First().Trim());
        return gpus;
    }
}
