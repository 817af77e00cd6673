using System.Diagnostics;
using PeftOnnx.Runtime.Tokenization;

namespace PeftOnnx.Runtime.Benchmarking;

/// <summary>
/// Times several targets on one batch, alternating them in rounds (A B C, A B C, ...) so that drift of a shared
/// machine (other load, clocks) hits every target alike. Each target is prepared and warmed up before the first round.
/// </summary>
public sealed class AlternatingBenchmark(int rounds, int callsPerRound, int warmupCalls, TimeSpan? maxTimePerTarget = null)
{
    public int Rounds { get; } = rounds >= 1 ? rounds : throw new ArgumentOutOfRangeException(nameof(rounds), $"Rounds must be at least 1, got {rounds}.");

    public int CallsPerRound { get; } = callsPerRound >= 1 ? callsPerRound : throw new ArgumentOutOfRangeException(nameof(callsPerRound), $"Calls per round must be at least 1, got {callsPerRound}.");

    public int WarmupCalls { get; } = warmupCalls >= 0 ? warmupCalls : throw new ArgumentOutOfRangeException(nameof(warmupCalls), $"Warm-up calls must be at least 0, got {warmupCalls}.");

    /// <summary>
    /// A budget per target and batch: after the first round, a round stops early when its target has used it up, so
    /// slow shapes (batch 128 on two cores) do not dominate a run. Every target still gets every round.
    /// </summary>
    public TimeSpan? MaxTimePerTarget { get; } = maxTimePerTarget;

    /// <summary>
    /// Measures every target on <paramref name="batch"/>. A target whose preparation or warm-up fails (an execution
    /// provider that cannot capture a CUDA graph, say) gets a null summary and its error in <paramref name="failures"/>;
    /// the others are still measured.
    /// </summary>
    public IReadOnlyList<LatencySummary?> Measure(IReadOnlyList<IBenchTarget> targets, TokenBatch batch, IDictionary<string, string> failures, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(failures);
        var summaries = new LatencySummary?[targets.Count];
        var spent = new double[targets.Count];
        for (var t = 0; t < targets.Count; t++)
        {
            try
            {
                targets[t].Prepare(batch);
                for (var i = 0; i < WarmupCalls; i++)
                    targets[t].Run();
                summaries[t] = new LatencySummary();
            }
            catch (Exception e) when (e is Microsoft.ML.OnnxRuntime.OnnxRuntimeException or InvalidDataException or ArgumentException or InvalidOperationException or DllNotFoundException)
            {
                failures[$"{targets[t].Name} at batch {batch.BatchSize} x {batch.SequenceLength}"] = e.Message.Split('\n')[0];
            }
        }
        for (var round = 0; round < Rounds; round++)
        {
            for (var t = 0; t < targets.Count; t++)
            {
                if (summaries[t] is null)
                    continue;
                var calls = CallsPerRound;
                if (round > 0 && MaxTimePerTarget is { } budget)
                {
                    // Keep the same share of the budget per round.
                    var perCall = spent[t] / summaries[t]!.Count;
                    calls = Math.Clamp((int)(budget.TotalMilliseconds / Rounds / perCall), 1, CallsPerRound);
                }
                for (var call = 0; call < calls; call++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var start = Stopwatch.GetTimestamp();
                    targets[t].Run();
                    var elapsed = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                    summaries[t]!.Add(elapsed);
                    spent[t] += elapsed;
                }
            }
        }
        return summaries;
    }
}
