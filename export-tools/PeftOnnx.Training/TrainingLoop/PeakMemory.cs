namespace PeftOnnx.Training.TrainingLoop;

/// <summary>The process's peak resident memory (Linux VmHWM), which includes libtorch's CPU allocations.</summary>
public static class PeakMemory
{
    /// <summary>Bytes, or the current working set where /proc is unavailable.</summary>
    public static long Bytes()
    {
        const string status = "/proc/self/status";
        if (File.Exists(status))
        {
            foreach (var line in File.ReadLines(status))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    var kb = long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0]);
                    return kb * 1024;
                }
            }
        }
        return Environment.WorkingSet;
    }
}
