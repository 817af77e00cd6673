using Microsoft.ML.OnnxRuntime;
using PeftOnnx.Benchmarking;

namespace PeftOnnx.Export.Cli.Commands.Bench;

/// <summary>
/// Two encoder sessions on the same batch, timed by the shared <see cref="AlternatingTimer"/> (A B A B: drift in
/// machine load hits both equally). One warm-up run each, then <c>rounds</c> timed runs each.
/// </summary>
public sealed class SessionComparison
{
    private readonly int batch;
    private readonly int sequence;
    private readonly int rounds;

    public SessionComparison(int batch, int sequence, int rounds)
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

        Action Runner(InferenceSession session)
        {
            var names = session.InputNames.ToList();
            var values = names.Select(n => n switch
            {
                "input_ids" => inputs[0],
                "attention_mask" => inputs[1],
                "token_type_ids" => inputs[2],
                _ => throw new InvalidDataException($"bench: the model has input '{n}'; expected input_ids, attention_mask, token_type_ids."),
            }).ToList();
            return () =>
            {
                using var outputs = session.Run(runOptions, names, values, [session.OutputNames[0]]);
            };
        }

        var summaries = new AlternatingTimer(rounds).Measure([Runner(baseline), Runner(candidate)]);
        var (a, b) = (summaries[0].Samples, summaries[1].Samples);
        for (var round = 0; round < rounds; round++)
            progress?.Invoke($"round {round + 1}/{rounds}: A {a[round]:F1} ms, B {b[round]:F1} ms");
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
        var summary = new LatencySummary();
        foreach (var value in values)
            summary.Add(value);
        return summary.Median;
    }
}
