using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;

namespace PeftOnnx.Export.Cli.Commands.Bench;

/// <summary>
/// Times two encoder sessions on the same batch, alternating A B A B so drift in machine load (other processes,
/// thermal state) hits both equally. One warm-up run each, then <c>rounds</c> timed runs each.
/// </summary>
public sealed class AlternatingBenchmark
{
    private readonly int batch;
    private readonly int sequence;
    private readonly int rounds;

    public AlternatingBenchmark(int batch, int sequence, int rounds)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(sequence, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(rounds, 1);
        this.batch = batch;
        this.sequence = sequence;
        this.rounds = rounds;
    }

    public BenchResult Run(InferenceSession baseline, InferenceSession candidate, Action<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(candidate);
        var (ids, mask, types) = Inputs();
        using var idsValue = OrtValue.CreateTensorValueFromMemory(ids, [batch, sequence]);
        using var maskValue = OrtValue.CreateTensorValueFromMemory(mask, [batch, sequence]);
        using var typesValue = OrtValue.CreateTensorValueFromMemory(types, [batch, sequence]);
        using var runOptions = new RunOptions();
        OrtValue[] inputs = [idsValue, maskValue, typesValue];

        double Time(InferenceSession session)
        {
            var names = session.InputNames.ToList();
            var values = names.Select(n => n switch
            {
                "input_ids" => inputs[0],
                "attention_mask" => inputs[1],
                "token_type_ids" => inputs[2],
                _ => throw new InvalidDataException($"bench: the model has input '{n}'; expected input_ids, attention_mask, token_type_ids."),
            }).ToList();
            var clock = Stopwatch.StartNew();
            using var outputs = session.Run(runOptions, names, values, [session.OutputNames[0]]);
            return clock.Elapsed.TotalMilliseconds;
        }

        Time(baseline);
        Time(candidate);
        var a = new List<double>(rounds);
        var b = new List<double>(rounds);
        for (var round = 1; round <= rounds; round++)
        {
            a.Add(Time(baseline));
            b.Add(Time(candidate));
            progress?.Invoke($"round {round}/{rounds}: A {a[^1]:F1} ms, B {b[^1]:F1} ms");
        }
        return new BenchResult(batch, sequence, rounds, a, b);
    }

    /// <summary>Full rows of ordinary-word ids between [CLS] and [SEP]: speed does not depend on which words.</summary>
    private (long[] Ids, long[] Mask, long[] Types) Inputs()
    {
        var random = new Random(1234);
        var ids = new long[batch * sequence];
        for (var b = 0; b < batch; b++)
        {
            for (var t = 0; t < sequence; t++)
                ids[b * sequence + t] = t == 0 ? 101 : t == sequence - 1 ? 102 : random.Next(1996, 29600);
        }
        return (ids, Enumerable.Repeat(1L, ids.Length).ToArray(), new long[ids.Length]);
    }
}

/// <summary>Per-run milliseconds of A (baseline) and B (candidate).</summary>
public sealed record BenchResult(int Batch, int Sequence, int Rounds, IReadOnlyList<double> BaselineMs, IReadOnlyList<double> CandidateMs)
{
    public double BaselineMedian => Median(BaselineMs);

    public double CandidateMedian => Median(CandidateMs);

    /// <summary>How many times faster B is than A (median over median).</summary>
    public double Speedup => BaselineMedian / CandidateMedian;

    private static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
