namespace PeftOnnx.Training.TrainingLoop;

/// <summary>The process's resident memory from /proc/self/status, which includes libtorch's CPU allocations.</summary>
public static class PeakMemory
{
    /// <summary>Peak resident bytes (VmHWM), or the current working set where /proc is unavailable.</summary>
    public static long Bytes() => Status("VmHWM:");

    /// <summary>Resident bytes now (VmRSS), or the current working set where /proc is unavailable.</summary>
    public static long CurrentBytes() => Status("VmRSS:");

    private static long Status(string field)
    {
        const string status = "/proc/self/status";
        if (File.Exists(status))
        {
            foreach (var line in File.ReadLines(status))
            {
                if (line.StartsWith(field, StringComparison.Ordinal))
                {
                    var kb = long.Parse(line[field.Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
                    return kb * 1024;
                }
            }
        }
        return Environment.WorkingSet;
    }
}
