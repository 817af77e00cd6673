using System.CommandLine;
using PeftOnnx.Cli.Commands.Common;
using PeftOnnx.Runtime.Inference;

namespace PeftOnnx.Cli.Commands.Tokenize;

/// <summary>`peftonnx tokenize`: the model's tokenizer on texts; one JSON line (ids, offsets) per input.</summary>
internal static class TokenizeCommand
{
    public static Command Create()
    {
        var model = CliOptions.Model();
        var text = CliOptions.Text();
        var input = CliOptions.Input();
        var output = CliOptions.Output();
        var maxLength = CliOptions.MaxLength();
        maxLength.Description = "Truncate to this many tokens including [CLS] and [SEP] (default: no truncation).";
        var modelsDir = CliOptions.ModelsDir();
        var command = new Command("tokenize", "Tokenize texts with a model's tokenizer: one JSON line with ids and offsets per input.")
        {
            model, text, input, output, maxLength, modelsDir,
        };
        CliAction.Set(command, (result, context, cancellationToken) =>
        {
            var items = TextInputs.Read(result.GetValue(text), result.GetValue(input));
            var limit = result.GetValue(maxLength);
            if (limit is < 3)
                throw new UsageException($"--max-length must be at least 3 ([CLS], one token, [SEP]), got {limit}.");
            var folder = ModelFolder.Open(ModelLocator.Resolve(result.GetValue(model)!, result.GetValue(modelsDir)));
            var tokenizer = folder.LoadTokenizer();
            using var writer = new ResultWriter(context, result.GetValue(output));
            foreach (var item in items)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var encoded = tokenizer.Encode(item.Text, limit ?? int.MaxValue);
                writer.Writer.WriteLine(CliJson.Line(new TokenizeLine(
                    item.Line,
                    item.Index is null ? null : item.Text,
                    encoded.Ids,
                    encoded.Offsets.Select(o => new[] { o.Start, o.End }).ToArray())));
            }
            writer.Commit();
            return Task.FromResult(0);
        });
        return command;
    }

    internal sealed record TokenizeLine(int? Line, string? Text, int[] Ids, int[][] Offsets);
}
