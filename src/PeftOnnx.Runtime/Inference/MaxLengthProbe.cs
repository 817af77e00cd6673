using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Runtime.Tokenization;

namespace PeftOnnx.Runtime.Inference;

/// <summary>
/// Refuses at load a max_length the model cannot run, naming the setting, instead of failing the first long document
/// mid-run. A model whose metadata records its position table (<see cref="BundleManifest.MaxPositionMetadata"/>,
/// written by the exporter inside the hashed model file) is checked against it; any other model runs one row of the
/// full max_length, which also catches anything else that stops the model at that length.
/// </summary>
internal static class MaxLengthProbe
{
    public static void Run(BertTokenizer tokenizer, ModelFolder folder, InferenceSession session, Action<TokenBatch> run)
    {
        var maxLength = folder.Manifest.Tokenizer.MaxLength;
        var manifestPath = Path.Combine(folder.Directory, BundleManifest.FileName);
        if (maxLength < 3)
            throw new InvalidDataException($"{manifestPath}: max_length is {maxLength}; it must hold [CLS], [SEP] and at least one token (3 or more).");
        if (MaxPosition(session, folder.ModelPath) is { } maxPosition)
        {
            if (maxLength > maxPosition)
                throw new InvalidDataException($"{manifestPath}: max_length {maxLength} is more than {folder.ModelPath} can run (its position table holds {maxPosition}); set \"max_length\" to at most {maxPosition} or re-export the bundle.");
            return;
        }
        var words = string.Join(' ', Enumerable.Repeat("a", maxLength)); // one word-piece each, cut to maxLength tokens
        var batch = TokenBatch.Create([tokenizer.Encode(words, maxLength)], tokenizer.PadId);
        try
        {
            run(batch);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidDataException(
                $"{manifestPath}: max_length {maxLength} is more than {folder.ModelPath} can run " +
                $"({e.Message.Trim()}); set \"max_length\" to at most the model's position table (max_position_embeddings, 512 for BERT-family models) or re-export the bundle.", e);
        }
    }

    private static int? MaxPosition(InferenceSession session, string modelPath)
    {
        if (!session.ModelMetadata.CustomMetadataMap.TryGetValue(BundleManifest.MaxPositionMetadata, out var value))
            return null;
        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var positions) && positions > 0
            ? positions
            : throw new InvalidDataException($"{modelPath}: metadata {BundleManifest.MaxPositionMetadata} is '{value}', not a positive number of positions; re-export the bundle.");
    }
}
