namespace PeftOnnx.Runtime.Sessions;

/// <summary>What the CPU looks like, for thread defaults and benchmark reports.</summary>
public static class MachineInfo
{
    private static readonly Lazy<(string Model, int PhysicalCores)> Cpu = new(ReadCpuInfo);

    /// <summary>CPU model name from /proc/cpuinfo ("unknown" elsewhere).</summary>
    public static string CpuModel => Cpu.Value.Model;

    /// <summary>
    /// Physical cores this process may use: distinct (physical id, core id) pairs in /proc/cpuinfo, capped by
    /// the logical processors the runtime sees (a container's CPU limit or affinity).
    /// </summary>
    public static int PhysicalCores => Math.Clamp(Cpu.Value.PhysicalCores, 1, Environment.ProcessorCount);

    public static int LogicalProcessors => Environment.ProcessorCount;

    private static (string, int) ReadCpuInfo()
    {
        const string path = "/proc/cpuinfo";
        if (!File.Exists(path))
            return ("unknown", Environment.ProcessorCount);
        string model = "unknown";
        var cores = new HashSet<(string, string)>();
        string physical = "0";
        foreach (var line in File.ReadLines(path))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
                continue;
            var key = line[..colon].Trim();
            var value = line[(colon + 1)..].Trim();
            switch (key)
            {
                case "model name" when model == "unknown":
                    model = value;
                    break;
                case "physical id":
                    physical = value;
                    break;
                case "core id":
                    cores.Add((physical, value));
                    break;
            }
        }
        return (model, cores.Count > 0 ? cores.Count : Environment.ProcessorCount);
    }
}
