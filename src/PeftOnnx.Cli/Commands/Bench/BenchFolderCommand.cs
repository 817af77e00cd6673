using System.CommandLine;
using Microsoft.ML.OnnxRuntime;
using PeftOnnx.Benchmarking;
using PeftOnnx.Cli.Commands.Common;
using PeftOnnx.Runtime.Evaluation;
using PeftOnnx.Runtime.Inference;
using PeftOnnx.Runtime.Scoring;
using PeftOnnx.Runtime.Sessions;
using PeftOnnx.Runtime.Tokenization;

namespace PeftOnnx.Cli.Commands.Bench;

/// <summary>
/// `peftonnx bench folder`: documents per second end to end (text in memory -> scores) on real documents such as
/// debian-sections. The baseline is what a plain ONNX Runtime program does: tokenize one document after another,
/// pad every batch to the max length, run with default SessionOptions. Each --model then runs through
/// <see cref="OnnxTextScorer"/> (parallel tokenization, length-bucketed batches padded to their longest row).
/// --separate NAME=DIR,DIR,... adds a variant that scores every document with each of those bundles in turn (N
/// single-task bundles, the baseline of a parallel bundle that scores the same N tasks in one run); with it the plain
/// program is left out and ratios divide by the first --separate variant. Passes alternate (A B A B) and the median
/// pass is reported.
/// </summary>
internal static class BenchFolderCommand
{
    public static Command Create()
    {
        var models = new Option<string[]>("--model", "-m") { Description = "Model folders (bundle or base model), repeatable; the first also runs the plain baseline (not with --separate).", Required = true };
        var data = new Option<FileInfo>("--data") { Description = "JSON lines with a \"text\" field (e.g. data/debian-sections.test.jsonl) or a labelled data file the eval verb reads.", Required = true };
        var batchSize = new Option<int>("--batch-size") { Description = "Sequences per ONNX Runtime call.", DefaultValueFactory = _ => 32 };
        var maxLength = new Option<int>("--max-length") { Description = "Tokens per document (truncated; the baseline pads to this).", DefaultValueFactory = _ => 128 };
        var limit = new Option<int?>("--limit") { Description = "Use only the first N documents." };
        var rounds = new Option<int>("--rounds") { Description = "Alternating rounds; each round scores every document once per variant.", DefaultValueFactory = _ => 3 };
        var separate = new Option<string[]>("--separate") { Description = "NAME=DIR,DIR,...: one variant that scores every document with each bundle in turn (repeatable); replaces the plain baseline.", AllowMultipleArgumentsPerToken = false };
        var markdown = new Option<FileInfo?>("--markdown") { Description = "Markdown file whose <!-- bench:SECTION --> block gets this table." };
        var section = new Option<string>("--section") { Description = "Section name for --markdown.", DefaultValueFactory = _ => "folder" };
        var command = new Command("folder", "Documents/s end to end on real documents: plain ONNX Runtime (padded to max length) vs the PeftOnnx scorer.")
        {
            models, data, batchSize, maxLength, limit, rounds, separate, markdown, section,
        };
        CliAction.Set(command, (result, context, cancellationToken) =>
        {
            var size = result.GetValue(batchSize);
            var length = result.GetValue(maxLength);
            var roundCount = result.GetValue(rounds);
            if (size < 1 || length < 3 || roundCount < 1)
                throw new UsageException($"--batch-size and --rounds must be >= 1 and --max-length >= 3 (got {size}, {roundCount}, {length}).");
            var examples = LabelledDataReader.Read(result.GetValue(data)!.FullName);
            var texts = examples.Select(e => e.Text).Take(result.GetValue(limit) ?? int.MaxValue).ToList();

            var groups = (result.GetValue(separate) ?? []).Select(ParseGroup).ToList();
            var loaded = new List<OnnxModel>();
            InferenceSession? plain = null;
            try
            {
                OnnxModel Load(string directory)
                {
                    var model = OnnxModel.Load(ModelLocator.Resolve(directory, null), new SessionSettings { Device = DeviceKind.Cpu }, context.Logger("bench"));
                    loaded.Add(model);
                    return model;
                }
                var scorerOptions = new ScorerOptions { BatchSize = size, MaxLength = length, Aggregation = WindowAggregation.First };
                var variants = new List<(string Name, Func<long> Run)>();
                foreach (var (name, directories) in groups)
                {
                    var scorers = directories.Select(d => new OnnxTextScorer(Load(d), scorerOptions)).ToList();
                    variants.Add(($"{name}: {scorers.Count} bundles, one after another ({string.Join(", ", scorers.Select(s => s.ModelId.Split('@')[0]))})",
                        () => scorers.Sum(scorer => scorer.Score(texts, cancellationToken).Sum(s => (long)s.Tokens))));
                }
                var measured = (result.GetValue(models) ?? []).Select(Load).ToList();
                var first = measured[0];
                if (groups.Count == 0)
                {
                    plain = new InferenceSession(first.ModelPath);
                    variants.Insert(0, ($"plain ORT, padded to {length} ({first.Manifest.Name})", () => RunPlain(plain, first.Tokenizer, texts, size, length)));
                }
                foreach (var model in measured)
                {
                    var scorer = new OnnxTextScorer(model, scorerOptions);
                    variants.Add(($"peftonnx scorer ({model.Manifest.Name})", () => scorer.Score(texts, cancellationToken).Sum(s => (long)s.Tokens)));
                }

                // One warm-up pass each (sessions, arenas, tokenizer caches), then one pass per variant per round.
                var tokens = new long[variants.Count];
                var summaries = new AlternatingTimer(roundCount).Measure(
                    [.. variants.Select((variant, v) => (Action)(() => tokens[v] = variant.Run()))],
                    round => context.Error.WriteLine($"round {round + 1}/{roundCount}"),
                    cancellationToken);

                var table = new BenchTable($"Documents/s end to end, {Path.GetFileName(result.GetValue(data)!.FullName)}", ["variant", "median s per pass", "docs/s", "tokens computed per pass", groups.Count == 0 ? "vs plain" : $"vs {groups[0].Name}"]);
                for (var v = 0; v < variants.Count; v++)
                {
                    table.AddRow(variants[v].Name, BenchTable.Number(summaries[v].Median / 1000, "F2"), BenchTable.Number(summaries[v].PerSecond(texts.Count), "F1"),
                        BenchTable.Number(tokens[v], "N0"), BenchTable.Number(summaries[0].Median / summaries[v].Median, "F2") + "x");
                }
                var notes = BenchMachine.Describe().Concat(
                [
                    $"{texts.Count} documents, truncated to {length} tokens, batch {size}; " + (groups.Count == 0 ? $"plain: sequential tokenization, every batch padded to {length}, default SessionOptions, all outputs; " : "") +
                    $"scorer: parallel tokenization, batches bucketed by length and padded to their longest row, CPU session with {loaded[0].IntraOpThreads} intra-op threads; tokens computed per pass sum over the bundles a variant runs",
                    $"tokens computed = rows x padded length summed over batches (plain) or real tokens (scorer); {roundCount} rounds, variants alternate, median pass",
                ]);
                var text = table.ToMarkdown("peftonnx bench folder " + string.Join(' ', Environment.GetCommandLineArgs().SkipWhile(a => a != "folder").Skip(1)), notes);
                context.Out.Write(text);
                if (result.GetValue(markdown) is { } file)
                    BenchTable.UpdateMarkdownSection(file.FullName, result.GetValue(section)!, text);
                return Task.FromResult(0);
            }
            finally
            {
                plain?.Dispose();
                foreach (var model in loaded)
                    model.Dispose();
            }
        });
        return command;
    }

    /// <summary>"separate=a,b,c" -> (separate, [a, b, c]).</summary>
    private static (string Name, string[] Directories) ParseGroup(string text)
    {
        var equals = text.IndexOf('=', StringComparison.Ordinal);
        var directories = equals > 0 ? text[(equals + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [];
        return directories.Length > 0
            ? (text[..equals], directories)
            : throw new UsageException($"--separate should be NAME=DIR,DIR,... (a name, then the bundle folders), got \"{text}\".");
    }

    /// <summary>The plain program: tokenize in order, pad each batch to the max length, Run; returns the padded tokens computed.</summary>
    private static long RunPlain(InferenceSession session, BertTokenizer tokenizer, List<string> texts, int batchSize, int maxLength)
    {
        long computed = 0;
        for (var start = 0; start < texts.Count; start += batchSize)
        {
            var count = Math.Min(batchSize, texts.Count - start);
            var ids = new long[count * maxLength];
            var mask = new long[count * maxLength];
            var types = new long[count * maxLength];
            for (var r = 0; r < count; r++)
            {
                var row = tokenizer.Encode(texts[start + r], maxLength).Ids;
                for (var t = 0; t < row.Length; t++)
                {
                    ids[(r * maxLength) + t] = row[t];
                    mask[(r * maxLength) + t] = 1;
                }
            }
            long[] shape = [count, maxLength];
            using var idsValue = OrtValue.CreateTensorValueFromMemory(ids, shape);
            using var maskValue = OrtValue.CreateTensorValueFromMemory(mask, shape);
            using var typesValue = OrtValue.CreateTensorValueFromMemory(types, shape);
            using var runOptions = new RunOptions();
            using var outputs = session.Run(runOptions, ["input_ids", "attention_mask", "token_type_ids"], [idsValue, maskValue, typesValue], session.OutputNames);
            computed += (long)count * maxLength;
        }
        return computed;
    }
}
