using System.Runtime.InteropServices;
using PeftOnnx.Core.Models;
using PeftOnnx.Runtime.Tokenization;
using MlBertOptions = Microsoft.ML.Tokenizers.BertOptions;
using MlBertTokenizer = Microsoft.ML.Tokenizers.BertTokenizer;

namespace PeftOnnx.Benchmarks.TokenizerThroughput;

/// <summary>
/// Single-thread tokens per second over the debian-sections training texts, timed by the thread's own CPU
/// clock (CLOCK_THREAD_CPUTIME_ID) in alternating rounds, so that a busy shared machine slows every tokenizer
/// alike and time spent waiting for a core is not counted. Complements TokenizerBenchmarks (wall clock).
/// Usage: <c>tokenizer-cpu [rounds=30]</c>. Linux only.
/// </summary>
internal static partial class TokenizerThroughputBench
{
    public static int Run(string[] args)
    {
        int rounds = args.Length > 0 && int.TryParse(args[0], out var r) ? r : 30;
        var texts = BenchmarkData.Texts("debian-sections.train.jsonl");
        string vocab = BenchmarkData.Model("minilm-l6", "vocab.txt");
        var tokenizer = BertTokenizer.FromFile(vocab, new TokenizerSettings());
        var mlBert = MlBertTokenizer.Create(vocab, new MlBertOptions { LowerCaseBeforeTokenization = true, RemoveNonSpacingMarks = true });
        var fastBert = new FastBertTokenizer.BertTokenizer();
        using (var reader = new StreamReader(vocab))
            fastBert.LoadVocabulary(reader, convertInputToLowercase: true);
        var fastIds = new long[16384];
        var fastMask = new long[16384];
        long corpusTokens = texts.Sum(t => (long)tokenizer.Encode(t).Length);
        Console.WriteLine($"corpus: {texts.Length} texts, {corpusTokens} tokens incl. [CLS]/[SEP]; {rounds} alternating rounds");

        (string Name, Func<long> Pass)[] contenders =
        [
            ("Microsoft.ML.Tokenizers BertTokenizer", () => texts.Sum(t => (long)mlBert.EncodeToIds(t).Count)),
            ("FastBertTokenizer", () => texts.Sum(t => (long)fastBert.Encode(t, fastIds, fastMask, null))),
            ("PeftOnnx Encode (ids + offsets)", () => texts.Sum(t => (long)tokenizer.Encode(t).Length)),
            ("PeftOnnx Encode, maxLength 128", () => texts.Sum(t => (long)tokenizer.Encode(t, 128).Length)),
            ("PeftOnnx CountTokens", () => texts.Sum(t => (long)tokenizer.CountTokens(t) + 2)),
        ];
        var seconds = contenders.Select(_ => new List<double>()).ToArray();
        for (int round = -2; round < rounds; round++)
        {
            for (int c = 0; c < contenders.Length; c++)
            {
                double start = ThreadCpuSeconds();
                contenders[c].Pass();
                if (round >= 0)
                    seconds[c].Add(ThreadCpuSeconds() - start);
            }
        }

        Console.WriteLine($"{"tokenizer",-40} {"median ms",10} {"Mtok/s",8} {"best Mtok/s",12}");
        for (int c = 0; c < contenders.Length; c++)
        {
            seconds[c].Sort();
            double median = seconds[c][seconds[c].Count / 2], best = seconds[c][0];
            Console.WriteLine($"{contenders[c].Name,-40} {median * 1e3,10:F1} {corpusTokens / median / 1e6,8:F2} {corpusTokens / best / 1e6,12:F2}");
        }
        return 0;
    }

    private const int ClockThreadCpuTimeId = 3;

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int ClockGetTime(int clockId, out TimeSpec time);

    private static double ThreadCpuSeconds()
    {
        if (ClockGetTime(ClockThreadCpuTimeId, out var time) != 0)
            throw new InvalidOperationException($"clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed (errno {Marshal.GetLastPInvokeError()}); this mode needs Linux.");
        return time.Seconds + time.Nanoseconds * 1e-9;
    }
}
