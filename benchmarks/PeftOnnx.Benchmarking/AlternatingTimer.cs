using System.Diagnostics;
using PeftOnnx.Runtime.Tokenization;

namespace PeftOnnx.Benchmarking;

/// <summary>
/// The project's one A/B timer: times several variants in alternating rounds (A B C, A B C, ...) after a warm-up, so
/// that drift of a shared machine (other load, clocks, thermal state) hits every variant alike. Used by the bench
/// verbs of both CLIs, train-bench and the programs under benchmarks/.
/// </summary>
public sealed class AlternatingTimer(int rounds, int callsPerRound = 1, int warmupCalls = 1, TimeSpan? maxTimePerVariant = null)
{
    public int Rounds { get; } = rounds >= 1 ? rounds : throw new ArgumentOutOfRangeException(nameof(rounds), $"Rounds must be at least 1, got {rounds}.");

    public int CallsPerRound { get; } = callsPerRound >= 1 ? callsPerRound : throw new ArgumentOutOfRangeException(nameof(callsPerRound), $"Calls per round must be at least 1, got {callsPerRound}.");

    public int WarmupCalls { get; } = warmupCalls >= 0 ? warmupCalls : throw new ArgumentOutOfRangeException(nameof(warmupCalls), $"Warm-up calls must be at least 0, got {warmupCalls}.");

    /// <summary>
    /// A budget per variant: after the first round, a round makes fewer calls when its variant has used up its share,
    /// so slow shapes (batch 128 on two cores) do not dominate a run. Every variant still gets every round.
    /// </summary>
    public TimeSpan? MaxTimePerVariant { get; } = maxTimePerVariant;

    /// <summary>
    /// Warms up every variant, then times them round by round. <paramref name="beforeRound"/> (not timed) runs before
    /// each round with its index, e.g. to move every variant on to the next batch.
    /// </summary>
    /// <returns>One summary per variant, its samples in the order they were taken (round by round).</returns>
    public IReadOnlyList<LatencySummary> Measure(IReadOnlyList<Action> variants, Action<int>? beforeRound = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(variants);
        for (var i = 0; i < WarmupCalls; i++)
        {
            foreach (var variant in variants)
                variant();
        }
        return Time(variants, beforeRound, cancellationToken);
    }

    /// <summary>
    /// Measures every target on <paramref name="batch"/>. A target whose preparation or warm-up fails (an execution
    /// provider that cannot capture a CUDA graph, say) gets a null summary and its error in <paramref name="failures"/>;
    /// the others are still measured.
    /// </summary>
    public IReadOnlyList<LatencySummary?> Measure(IReadOnlyList<IBenchTarget> targets, TokenBatch batch, IDictionary<string, string> failures, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(failures);
        var ready = new List<int>();
        for (var t = 0; t < targets.Count; t++)
        {
            try
            {
                targets[t].Prepare(batch);
                for (var i = 0; i < WarmupCalls; i++)
                    targets[t].Run();
                ready.Add(t);
            }
            catch (Exception e) when (e is Microsoft.ML.OnnxRuntime.OnnxRuntimeException or InvalidDataException or ArgumentException or InvalidOperationException or DllNotFoundException)
            {
                failures[$"{targets[t].Name} at batch {batch.BatchSize} x {batch.SequenceLength}"] = e.Message.Split('\n')[0];
            }
        }
        var measured = Time([.. ready.Select(t => (Action)targets[t].Run)], null, cancellationToken);
        var summaries = new LatencySummary?[targets.Count];
        for (var r = 0; r < ready.Count; r++)
            summaries[ready[r]] = measured[r];
        return summaries;
    }

    private LatencySummary[] Time(IReadOnlyList<Action> variants, Action<int>? beforeRound, CancellationToken cancellationToken)
    {
        var summaries = variants.Select(_ => new LatencySummary()).ToArray();
        for (var round = 0; round < Rounds; round++)
        {
            beforeRound?.Invoke(round);
            for (var v = 0; v < variants.Count; v++)
            {
                var calls = CallsPerRound;
                if (round > 0 && MaxTimePerVariant is { } budget)
                {
                    // Keep the same share of the budget per round.
                    var perCall = summaries[v].Total / summaries[v].Count;
                    calls = Math.Clamp((int)(budget.TotalMilliseconds / Rounds / perCall), 1, CallsPerRound);
                }
                for (var call = 0; call < calls; call++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var start = Stopwatch.GetTimestamp();
                    variants[v]();
                    summaries[v].Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                }
            }
        }
        return summaries;
    }
}
