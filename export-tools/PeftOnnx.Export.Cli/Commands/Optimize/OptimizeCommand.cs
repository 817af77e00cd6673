using System.CommandLine;
using PeftOnnx.Onnx;
using PeftOnnx.Onnx.Passes;
using PeftOnnx.Onnx.Passes.Fusions;
using Spectre.Console;

namespace PeftOnnx.Export.Cli.Commands.Optimize;

/// <summary>
/// `peftonnx-export optimize in.onnx out.onnx`: transformer fusions (LayerNormalization, SkipLayerNormalization,
/// BiasGelu, Attention) and an optional in-graph pooled output. What each fusion did goes to stderr; the summary to stdout.
/// </summary>
internal static class OptimizeCommand
{
    public static Command Create()
    {
        var input = new Argument<FileInfo>("input") { Description = "ONNX model to optimize." };
        var output = new Argument<FileInfo>("output") { Description = "Where to write the optimized model (written atomically)." };
        var fusions = new Option<string[]>("--fusions")
        {
            Description = $"Fusions to apply, comma-separated, in pipeline order: {string.Join(", ", TransformerFusion.SelectablePasses.Select(p => p.Name))}; 'none' for none (default: {string.Join(", ", TransformerFusion.AllPasses.Select(p => p.Name))}).",
            AllowMultipleArgumentsPerToken = true,
        };
        var pooled = new Option<bool>("--pooled-output") { Description = $"Add a '{PooledOutputPass.OutputName}' output: masked mean of last_hidden_state, L2-normalised (sentence-transformers pooling)." };
        var pooledOnly = new Option<bool>("--pooled-only") { Description = $"Keep only the '{PooledOutputPass.OutputName}' output (implies --pooled-output): the session copies (B, H) instead of (B, S, H)." };

        var fp16 = new Option<bool>("--fp16")
        {
            Description = "Convert to fp16 after fusing (inputs and outputs stay as they were). Fused LayerNormalization and " +
                          "SkipLayerNormalization run in fp16 too: ONNX Runtime's kernels keep their statistics in fp32.",
        };
        var command = new Command("optimize", "Fuse transformer subgraphs into ONNX Runtime's fused operators and optionally pool in the graph.")
        {
            input, output, fusions, pooled, pooledOnly, fp16,
        };
        command.SetAction(parseResult =>
        {
            var stderr = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
            var source = parseResult.GetValue(input)!;
            var target = parseResult.GetValue(output)!;
            try
            {
                var passes = ParsePasses(parseResult.GetValue(fusions));
                var model = OnnxModelFile.Load(source.FullName);
                var before = model.Graph.Node.Count;
                foreach (var result in TransformerFusion.Apply(model, passes))
                {
                    stderr.MarkupLineInterpolated($"[grey]{result.Pass}: fused {result.Changed}[/]");
                    foreach (var note in result.Unhandled)
                        stderr.MarkupLineInterpolated($"[yellow]{result.Pass} left unfused:[/] {note}");
                }
                var only = parseResult.GetValue(pooledOnly);
                if (only || parseResult.GetValue(pooled))
                    model.Apply(new PooledOutputPass(pooledOnly: only));
                if (parseResult.GetValue(fp16))
                {
                    var keep = new HashSet<string>(Fp16ConversionPass.DefaultKeepFp32Ops, StringComparer.Ordinal);
                    keep.ExceptWith(["LayerNormalization", "SkipLayerNormalization"]);
                    stderr.MarkupLineInterpolated($"[grey]{model.Apply(new Fp16ConversionPass { KeepFp32Ops = keep })}[/]");
                }
                OnnxModelFile.Save(model, target.FullName);
                Console.Out.WriteLine($"{target.FullName}: {before} -> {model.Graph.Node.Count} nodes, outputs {string.Join(", ", model.Graph.Output.Select(o => o.Name))}");
                return 0;
            }
            catch (Exception e) when (e is InvalidDataException or IOException or ArgumentException)
            {
                stderr.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
                return 1;
            }
        });
        return command;
    }

    private static List<IGraphPass> ParsePasses(string[]? values)
    {
        var names = (values ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
        if (names.Count == 0)
            return [.. TransformerFusion.AllPasses];
        if (names is ["none"])
            return [];
        var requested = names.Select(TransformerFusion.Find).ToHashSet();
        if (requested.Count(p => p is AttentionFusion) > 1)
            throw new ArgumentException("--fusions: Attention and MultiHeadAttention fuse the same blocks; pick one.");
        // Keep pipeline order whatever order the user typed.
        return [.. TransformerFusion.SelectablePasses.Where(requested.Contains)];
    }
}
