using System.Diagnostics;
using System.Security.Cryptography;

namespace PeftOnnx.Fuzz;

/// <summary>
/// An in-process fuzzing run: mutates the seed corpus (and, on an instrumented build, every input that reached new
/// coverage) for a number of executions or seconds, and keeps each distinct crash (by exception type and first frame)
/// with the input that caused it.
/// </summary>
public sealed class Campaign(FuzzTarget target, int seed)
{
    /// <summary>An input slower than this is reported as a possible stall.</summary>
    public static readonly TimeSpan SlowInput = TimeSpan.FromSeconds(1);

    public CampaignResult Run(IReadOnlyList<byte[]> seeds, long maxExecutions, TimeSpan maxTime, string? findingsFolder = null)
    {
        var queue = new List<byte[]>(seeds.Count == 0 ? [[]] : seeds);
        var mutator = new Mutator(seed);
        var random = new Random(seed);
        var crashes = new Dictionary<string, CampaignCrash>(StringComparer.Ordinal);
        var clock = Stopwatch.StartNew();
        long executions = 0, rejected = 0;
        var slowest = TimeSpan.Zero;
        byte[] slowestInput = [];
        using var coverage = new Coverage();

        void Execute(byte[] input, bool warm)
        {
            coverage.Reset();
            var started = Stopwatch.GetTimestamp();
            var outcome = target.Check(input);
            var elapsed = Stopwatch.GetElapsedTime(started);
            executions++;
            // The seeds run first and pay for JIT compilation: only later inputs count as slow.
            if (warm && elapsed > slowest)
                (slowest, slowestInput) = (elapsed, input);
            if (outcome.IsRejected)
                rejected++;
            if (outcome.IsCrash && !crashes.ContainsKey(outcome.Signature))
            {
                crashes[outcome.Signature] = new CampaignCrash(outcome.Signature, outcome.Error!.Message, input);
                Save(findingsFolder, "crash", input);
            }
            if (coverage.HasNewCoverage() && !outcome.IsCrash)
                queue.Add(input);
        }

        foreach (var input in queue.ToArray())
            Execute(input, warm: false);
        while (executions < maxExecutions && clock.Elapsed < maxTime)
        {
            var parent = queue[random.Next(queue.Count)];
            Execute(mutator.Mutate(parent, queue), warm: true);
        }
        if (slowest > SlowInput)
            Save(findingsFolder, "slow", slowestInput);
        return new CampaignResult(target.Name, executions, rejected, clock.Elapsed, queue.Count, coverage.Edges, [.. crashes.Values], slowest);
    }

    private static void Save(string? folder, string kind, byte[] input)
    {
        if (folder is null)
            return;
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, $"{kind}-{Convert.ToHexStringLower(SHA256.HashData(input))[..16]}"), input);
    }
}

public sealed record CampaignCrash(string Signature, string Message, byte[] Input);

public sealed record CampaignResult(
    string Target, long Executions, long Rejected, TimeSpan Elapsed, int QueueSize, int Edges, IReadOnlyList<CampaignCrash> Crashes, TimeSpan Slowest)
{
    public override string ToString() =>
        $"{Target}: {Executions:N0} executions in {Elapsed.TotalSeconds:F1} s ({Executions / Math.Max(Elapsed.TotalSeconds, 1e-9):N0}/s), "
        + $"{Rejected:N0} rejected as bad input, {Crashes.Count} distinct crashes, queue {QueueSize}, edges {Edges}, slowest input {Slowest.TotalMilliseconds:F1} ms";
}
