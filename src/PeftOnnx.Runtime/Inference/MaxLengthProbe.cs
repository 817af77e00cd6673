using Microsoft.ML.OnnxRuntime;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Runtime.Tokenization;

namespace PeftOnnx.Runtime.Inference;

/// <summary>
/// Runs one row of the bundle's full max_length at load: a max_length beyond the model's position table (or anything
/// else that stops the model at that length) is refused while loading, naming the setting, instead of failing the first
/// long document mid-run.
/// </summary>
internal static class MaxLengthProbe
{
    public static void Run(BertTokenizer tokenizer, ModelFolder folder, Action<TokenBatch> run)
    {
        var maxLength = folder.Manifest.Tokenizer.MaxLength;
        if (maxLength < 3)
            throw new InvalidDataException($"{Path.Combine(folder.Directory, BundleManifest.FileName)}: max_length is {maxLength}; it must hold [CLS], [SEP] and at least one token (3 or more).");
        var words = string.Join(' ', Enumerable.Repeat("a", maxLength)); // one word-piece each, cut to maxLength tokens
        var batch = TokenBatch.Create([tokenizer.Encode(words, maxLength)], tokenizer.PadId);
        try
        {
            run(batch);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidDataException(
                $"{Path.Combine(folder.Directory, BundleManifest.FileName)}: max_length {maxLength} is more than {folder.ModelPath} can run " +
                $"({e.Message.Trim()}); set \"max_length\" to at most the model's position table (max_position_embeddings, 512 for BERT-family models) or re-export the bundle.", e);
        }
    }
}
