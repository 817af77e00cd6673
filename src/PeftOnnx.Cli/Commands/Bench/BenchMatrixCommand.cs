using System.CommandLine;
using Microsoft.ML.OnnxRuntime;
using PeftOnnx.Cli.Commands.Common;
using PeftOnnx.Benchmarking;
using PeftOnnx.Runtime.Tokenization;

namespace PeftOnnx.Cli.Commands.Bench;

/// <summary>
/// `peftonnx bench matrix`: several model variants (base, merged, fused, int8, fp16; plain ONNX Runtime or the
/// IOBinding path) over batch x sequence on synthetic full-length input, alternating the variants in rounds.
/// Prints a markdown table (median/p90/p99 latency, tokens/s, ratio to the first variant) with the machine and
/// settings, and with --markdown replaces the table's section in a file such as docs/PERFORMANCE.md.
/// </summary>
internal static class BenchMatrixCommand
{
    public static Command Create()
    {
        var variants = new Option<string[]>("--variant", "-v")
        {
            Description = $"NAME=MODE:PATH, repeatable; the first is the baseline the ratios divide by. MODE: {string.Join(", ", BenchVariant.Modes)}.",
            Required = true,
        };
        var vocab = new Option<string>("--vocab") { Description = "vocab.txt of the models (for [CLS]/[SEP] ids and the vocabulary size).", DefaultValueFactory = _ => "models/minilm-l6/vocab.txt" };
        var batchSizes = new Option<int[]>("--batch-sizes") { Description = "Batch sizes.", DefaultValueFactory = _ => [1, 8, 32, 128], AllowMultipleArgumentsPerToken = true };
        var sequences = new Option<int[]>("--sequences") { Description = "Sequence lengths (tokens per row, all real tokens).", DefaultValueFactory = _ => [64, 128, 256], AllowMultipleArgumentsPerToken = true };
        var cuda = new Option<bool>("--cuda") { Description = "Run every variant on the CUDA provider (device 0)." };
        var threads = new Option<int?>("--threads") { Description = "Intra-op threads for non-plain variants (default: ONNX Runtime's, one per physical core)." };
        var noSpin = new Option<bool>("--no-spin") { Description = "Non-plain variants: idle intra-op threads sleep instead of spinning." };
        var level = new Option<GraphOptimizationLevel>("--opt-level") { Description = "Graph optimisation level of non-plain variants.", DefaultValueFactory = _ => GraphOptimizationLevel.ORT_ENABLE_ALL };
        var rounds = new Option<int>("--rounds") { Description = "Alternating rounds (A B A B ...).", DefaultValueFactory = _ => 3 };
        var calls = new Option<int>("--calls") { Description = "Timed calls per variant per round (at most).", DefaultValueFactory = _ => 5 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed calls per variant and shape.", DefaultValueFactory = _ => 2 };
        var budget = new Option<double>("--budget-seconds") { Description = "Time budget per variant and shape after the first round (0: none).", DefaultValueFactory = _ => 20 };
        var markdown = new Option<FileInfo?>("--markdown") { Description = "Markdown file whose <!-- bench:SECTION --> block gets this table (e.g. docs/PERFORMANCE.md)." };
        var section = new Option<string>("--section") { Description = "Section name for --markdown.", DefaultValueFactory = _ => "matrix" };
        var compare = new Option<bool>("--compare") { Description = "Before timing, print each variant's max abs output difference from the first variant (batch 4 x the first sequence length)." };
        var title = new Option<string>("--title") { Description = "Table title.", DefaultValueFactory = _ => "Throughput and latency, synthetic full-length input" };

        var command = new Command("matrix", "Compare model variants over batch x sequence (tokens/s, latency percentiles), alternating variants.")
        {
            variants, vocab, batchSizes, sequences, cuda, threads, noSpin, level, rounds, calls, warmup, budget, markdown, section, title, compare,
        };
        CliAction.Set(command, (result, context, cancellationToken) =>
        {
            var specs = (result.GetValue(variants) ?? []).Select(BenchVariant.Parse).ToList();
            var sizes = result.GetValue(batchSizes) ?? [];
            var lengths = result.GetValue(sequences) ?? [];
            if (sizes.Length == 0 || sizes.Any(b => b < 1) || lengths.Length == 0 || lengths.Any(s => s < 3))
                throw new UsageException($"--batch-sizes must be >= 1 and --sequences >= 3 (got '{string.Join(' ', sizes)}' and '{string.Join(' ', lengths)}').");
            var session = new BenchSessionOptions
            {
                Cuda = result.GetValue(cuda),
                IntraOpThreads = result.GetValue(threads),
                AllowSpinning = !result.GetValue(noSpin),
                OptimizationLevel = result.GetValue(level),
            };
            var tokenizer = BertTokenizer.FromFile(result.GetValue(vocab)!, new Core.Models.TokenizerSettings());
            var seconds = result.GetValue(budget);
            var benchmark = new AlternatingTimer(result.GetValue(rounds), result.GetValue(calls), result.GetValue(warmup), seconds > 0 ? TimeSpan.FromSeconds(seconds) : null);

            var targets = new List<IBenchTarget>();
            try
            {
                foreach (var spec in specs)
                    targets.Add(spec.CreateTarget(session));
                var notes = new List<string>();
                if (result.GetValue(compare))
                {
                    foreach (var line in OutputParity.Compare(targets, BenchInputs.Synthetic(tokenizer, 4, lengths[0], seed: 2)))
                    {
                        context.Error.WriteLine(line);
                        notes.Add(line);
                    }
                }
                var failures = new SortedDictionary<string, string>(StringComparer.Ordinal);
                var table = new BenchTable(result.GetValue(title)!, ["batch", "seq", "variant", "median ms", "p90 ms", "p99 ms", "tokens/s", $"vs {specs[0].Name}"]);
                foreach (var sequence in lengths)
                {
                    foreach (var batchSize in sizes)
                    {
                        var batch = BenchInputs.Synthetic(tokenizer, batchSize, sequence);
                        context.Error.WriteLine($"batch {batchSize} x {sequence} ...");
                        var summaries = benchmark.Measure(targets, batch, failures, cancellationToken);
                        var tokens = (double)batchSize * sequence;
                        for (var t = 0; t < targets.Count; t++)
                        {
                            if (summaries[t] is not { } s)
                                continue;
                            var ratio = summaries[0] is { } first ? BenchTable.Number(first.Median / s.Median, "F2") + "x" : "n/a";
                            table.AddRow(batchSize.ToString(), sequence.ToString(), targets[t].Name,
                                BenchTable.Number(s.Median, "F3"), BenchTable.Number(s.Percentile(90), "F3"), BenchTable.Number(s.Percentile(99), "F3"),
                                BenchTable.Number(s.PerSecond(tokens), "N0"), ratio);
                        }
                    }
                }
                notes.InsertRange(0, BenchMachine.Describe().Concat(targets.Select(t => t.Settings)));
                notes.AddRange(failures.Select(f => $"failed: {f.Key}: {f.Value}"));
                notes.Add(
                    $"input: synthetic, every row full length (random word-piece ids), no padding; {result.GetValue(rounds)} rounds x up to {result.GetValue(calls)} calls per variant, variants alternate (A B A B), after {result.GetValue(warmup)} warm-up calls; median of all calls");
                var text = table.ToMarkdown("peftonnx bench matrix " + string.Join(' ', Environment.GetCommandLineArgs().SkipWhile(a => a != "matrix").Skip(1)), notes);
                context.Out.Write(text);
                if (result.GetValue(markdown) is { } file)
                    BenchTable.UpdateMarkdownSection(file.FullName, result.GetValue(section)!, text);
                return Task.FromResult(0);
            }
            finally
            {
                foreach (var target in targets)
                    target.Dispose();
            }
        });
        return command;
    }
}
