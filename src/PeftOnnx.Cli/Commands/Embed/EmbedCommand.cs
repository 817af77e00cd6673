using System.CommandLine;
using PeftOnnx.Cli.Commands.Common;
using PeftOnnx.Hosting.Scoring;
using PeftOnnx.Runtime.Inference;
using PeftOnnx.Runtime.Scoring;

namespace PeftOnnx.Cli.Commands.Embed;

/// <summary>`peftonnx embed`: pooled, normalised sentence embeddings; one JSON line per input.</summary>
internal static class EmbedCommand
{
    private const int TextsPerCall = 256;

    public static Command Create()
    {
        var model = CliOptions.Model();
        var text = CliOptions.Text();
        var input = CliOptions.Input();
        var output = CliOptions.Output();
        var device = CliOptions.Device();
        var threads = CliOptions.Threads();
        var batchSize = CliOptions.BatchSize();
        var aggregate = CliOptions.Aggregate();
        var modelsDir = CliOptions.ModelsDir();
        var skipVerify = CliOptions.SkipVerify();
        var command = new Command("embed", "Sentence embeddings (the model's pooling, L2-normalised): one JSON line per input.")
        {
            model, text, input, output, device, threads, batchSize, aggregate, modelsDir, skipVerify,
        };
        CliAction.Set(command, (result, context, cancellationToken) =>
        {
            var items = TextInputs.Read(result.GetValue(text), result.GetValue(input));
            CliOptions.RequireBatchSize(result.GetValue(batchSize));
            var directory = ModelLocator.Resolve(result.GetValue(model)!, result.GetValue(modelsDir));
            if (ScorerFactory.IsSideBundle(directory))
                throw new UsageException($"{directory} is a side bundle: without an adapter its graph runs default inputs, not a trained adapter. `peftonnx score --model {directory} [--adapter NAME]` writes each document's embedding with one of its adapters; embed takes base models and merged bundles.");
            using var onnx = OnnxModel.Load(directory, CliOptions.SessionSettings(result, device, threads), context.Logger("embed"), !result.GetValue(skipVerify));
            if (onnx.IsClassifier)
                throw new UsageException($"{onnx.Manifest.Name} is a classification bundle; embed needs a feature-extraction model (a base model or an embedding bundle). Use `peftonnx score` for classifiers.");
            var scorer = new OnnxTextScorer(onnx, new ScorerOptions { BatchSize = result.GetValue(batchSize), Aggregation = result.GetValue(aggregate) });
            using var writer = new ResultWriter(context, result.GetValue(output));
            foreach (var chunk in items.Chunk(TextsPerCall))
            {
                var scores = scorer.Score(chunk.Select(i => i.Text).ToList(), cancellationToken);
                for (var i = 0; i < chunk.Length; i++)
                {
                    writer.Writer.WriteLine(CliJson.Line(new EmbedLine(
                        chunk[i].Line, chunk[i].Index is null ? null : chunk[i].Text, scores[i].Embedding!, scores[i].Tokens, scores[i].Chunks)));
                }
            }
            writer.Commit();
            return Task.FromResult(0);
        });
        return command;
    }

    internal sealed record EmbedLine(int? Line, string? Text, float[] Embedding, int Tokens, int Chunks);
}
