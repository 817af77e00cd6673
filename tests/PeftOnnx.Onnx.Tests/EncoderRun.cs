using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using PeftOnnx.Core.Json;
using PeftOnnx.Core.Models;
using PeftOnnx.Runtime.Tokenization;

namespace PeftOnnx.Onnx.Tests;

/// <summary>Runs a BERT-style encoder (input_ids, attention_mask, token_type_ids) on CPU and pools its output.</summary>
internal sealed class EncoderRun
{
    private EncoderRun(long[] ids, long[] mask, int batch, int sequence)
    {
        Ids = ids;
        Mask = mask;
        Batch = batch;
        Sequence = sequence;
    }

    public long[] Ids { get; }

    public long[] Mask { get; }

    public int Batch { get; }

    public int Sequence { get; }

    /// <summary>
    /// The first <paramref name="count"/> package descriptions of data/debian-sections.dev.jsonl, tokenized with minilm's
    /// tokenizer (truncated to <paramref name="maxLength"/>) and padded to the longest: real text, as the model sees it in use.
    /// </summary>
    public static EncoderRun FromDevTexts(int count, int maxLength)
    {
        var texts = File.ReadLines(PeftOnnx.Tests.TestPaths.Data("debian-sections.dev.jsonl"))
            .Take(count)
            .Select(line => JsonDocument.Parse(line).RootElement.GetProperty("text").GetString()!)
            .ToList();
        var folder = Path.GetDirectoryName(MiniLm.ModelPath)!;
        var manifest = JsonSerializer.Deserialize<ModelManifest>(File.ReadAllText(Path.Combine(folder, ModelManifest.FileName)), PeftJson.Options)!;
        var tokenizer = BertTokenizer.FromDirectory(folder, manifest.Tokenizer);
        var encoded = texts.Select(t => tokenizer.Encode(t, maxLength)).ToList();
        var sequence = encoded.Max(e => e.Length);
        var ids = new long[count * sequence];
        var mask = new long[count * sequence];
        for (var b = 0; b < count; b++)
        {
            for (var t = 0; t < encoded[b].Length; t++)
            {
                ids[b * sequence + t] = encoded[b].Ids[t];
                mask[b * sequence + t] = 1;
            }
        }
        return new EncoderRun(ids, mask, count, sequence);
    }

    /// <summary>last_hidden_state, (batch, sequence, hidden) flattened.</summary>
    public float[] LastHiddenState(InferenceSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        long[] shape = [Batch, Sequence];
        using var ids = OrtValue.CreateTensorValueFromMemory(Ids, shape);
        using var mask = OrtValue.CreateTensorValueFromMemory(Mask, shape);
        using var types = OrtValue.CreateTensorValueFromMemory(new long[Ids.Length], shape);
        using var runOptions = new RunOptions();
        using var results = session.Run(runOptions, ["input_ids", "attention_mask", "token_type_ids"], [ids, mask, types], ["last_hidden_state"]);
        return results[0].GetTensorDataAsSpan<float>().ToArray();
    }

    /// <summary>Mean over the unmasked tokens: (batch, hidden).</summary>
    public float[][] MeanPool(float[] hidden, int width)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        var pooled = new float[Batch][];
        for (var b = 0; b < Batch; b++)
        {
            pooled[b] = new float[width];
            var count = 0;
            for (var t = 0; t < Sequence; t++)
            {
                if (Mask[b * Sequence + t] == 0)
                    continue;
                count++;
                for (var h = 0; h < width; h++)
                    pooled[b][h] += hidden[(b * Sequence + t) * width + h];
            }
            for (var h = 0; h < width; h++)
                pooled[b][h] /= count;
        }
        return pooled;
    }

    /// <summary>Largest |a - b| over the unmasked tokens.</summary>
    public double MaxAbsDiff(float[] a, float[] b, int width)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var max = 0.0;
        for (var token = 0; token < Batch * Sequence; token++)
        {
            if (Mask[token] == 0)
                continue;
            for (var h = 0; h < width; h++)
                max = Math.Max(max, Math.Abs(a[token * width + h] - b[token * width + h]));
        }
        return max;
    }

    public static double Cosine(float[] a, float[] b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += a[i] * (double)b[i];
            na += a[i] * (double)a[i];
            nb += b[i] * (double)b[i];
        }
        return dot / Math.Sqrt(na * nb);
    }
}
