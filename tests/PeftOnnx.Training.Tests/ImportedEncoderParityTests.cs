using Microsoft.ML.OnnxRuntime;
using PeftOnnx.Core.Models;
using PeftOnnx.Onnx.Import;
using PeftOnnx.Training.Encoder;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Tests;

/// <summary>
/// Seeded random BERTs of other shapes, written by the TorchSharp encoder as transformers folders and imported: the
/// imported model.onnx computes the TorchSharp forward, and the trainer loads the imported folder back to the same weights.
/// </summary>
public sealed class ImportedEncoderParityTests(ITestOutputHelper output)
{
    public static TheoryData<string> Shapes => ["base-12x768-cased", "small-4x256-relu-nopooler", "tiny-2x64-gelu_new"];

    private static (ModelArchitecture Config, bool Lowercase, bool Pooler) Describe(string shape) => shape switch
    {
        // bert-base-cased's shape: 12 layers x 768, 12 heads, intermediate 3072, 28996 cased tokens, 512 positions.
        "base-12x768-cased" => (new ModelArchitecture { Layers = 12, Hidden = 768, Heads = 12, Intermediate = 3072, VocabSize = 28996, MaxPosition = 512 }, false, true),
        "small-4x256-relu-nopooler" => (new ModelArchitecture { Layers = 4, Hidden = 256, Heads = 4, Intermediate = 1024, VocabSize = 30522, MaxPosition = 512, HiddenAct = "relu", LayerNormEps = 1e-5 }, true, false),
        _ => (new ModelArchitecture { Layers = 2, Hidden = 64, Heads = 2, Intermediate = 128, VocabSize = 30522, MaxPosition = 128, HiddenAct = "gelu_new", TypeVocabSize = 1 }, true, true),
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Imported_onnx_matches_the_torchsharp_forward(string shape)
    {
        var (architecture, lowercase, pooler) = Describe(shape);
        architecture = architecture with { Pooler = pooler };
        torch.set_num_threads(2);
        torch.manual_seed(1234);
        var config = BertConfig.FromArchitecture(architecture);
        using var model = new BertModel(config);
        model.eval();
        var state = model.state_dict().ToDictionary(p => p.Key, p => (p.Value.data<float>().ToArray(), p.Value.shape), StringComparer.Ordinal);
        // The vocabulary file: minilm's tokens (cut to the vocab size); the cased model is told not to lower-case.
        var vocab = File.ReadLines(Path.Combine(TestModels.EnsurePulled("minilm-l6"), "vocab.txt")).Take(architecture.VocabSize).ToList();
        using var temp = new TempFolder();
        TransformersFolder.Write(temp.Combine("hf"), architecture, state, vocab, lowercase);
        var imported = ModelImporter.Import(temp.Combine("hf"), shape, temp.Combine("models", shape));
        Assert.Equal(pooler, imported.Manifest.Architecture.Pooler);
        Assert.Equal(!lowercase, !imported.Manifest.Tokenizer.Lowercase);

        // Two rows of seeded random ids, the second padded after 40 tokens.
        const int batch = 2, length = 64;
        var random = new Random(5);
        var ids = Enumerable.Range(0, batch * length).Select(_ => (long)random.Next(999, architecture.VocabSize)).ToArray();
        var mask = Enumerable.Range(0, batch * length).Select(i => i >= length + 40 ? 0L : 1L).ToArray();
        var types = Enumerable.Range(0, batch * length).Select(i => architecture.TypeVocabSize > 1 && i % length >= 32 ? 1L : 0L).ToArray();
        long[] dims = [batch, length];
        using var encoderBatch = new EncoderBatch(tensor(ids, dims), tensor(mask, dims), tensor(types, dims));

        float[] expected, expectedPooled = [];
        using (inference_mode())
        {
            var (hidden, _) = model.forward(encoderBatch);
            using var _h = hidden;
            expected = hidden.data<float>().ToArray();
            if (pooler)
            {
                using var pooled = model.Pool(hidden);
                expectedPooled = pooled.data<float>().ToArray();
            }
        }

        using var session = new InferenceSession(Path.Combine(imported.ModelDir, "model.onnx"));
        using var idsValue = OrtValue.CreateTensorValueFromMemory(ids, dims);
        using var maskValue = OrtValue.CreateTensorValueFromMemory(mask, dims);
        using var typesValue = OrtValue.CreateTensorValueFromMemory(types, dims);
        string[] outputs = pooler ? ["last_hidden_state", "pooler_output"] : ["last_hidden_state"];
        using var results = session.Run(new RunOptions(), ["input_ids", "attention_mask", "token_type_ids"], [idsValue, maskValue, typesValue], outputs);
        var hiddenDiff = MaxDiff(expected, results[0].GetTensorDataAsSpan<float>(), mask, architecture.Hidden);
        var pooledDiff = pooler ? MaxDiff(expectedPooled, results[1].GetTensorDataAsSpan<float>(), null, architecture.Hidden) : 0;
        output.WriteLine($"{shape}: max |onnx - torchsharp| last_hidden_state {hiddenDiff:E2}{(pooler ? $", pooler_output {pooledDiff:E2}" : "")}");
        Assert.True(hiddenDiff < 1e-4, $"last_hidden_state differs by {hiddenDiff}");
        Assert.True(pooledDiff < 1e-4, $"pooler_output differs by {pooledDiff}");

        // The trainer starts from the imported folder with the same weights.
        var encoder = BaseEncoder.Load(imported.ModelDir);
        Assert.Equal(config, encoder.Config with { HiddenDropoutProb = config.HiddenDropoutProb });
        using var loaded = encoder.CreateClassifier(3, pooler ? Pooling.Pooler : Pooling.Mean);
        loaded.eval();
        using (inference_mode())
        {
            var (hidden, _) = loaded.Bert.forward(encoderBatch);
            using var _h = hidden;
            var reloadDiff = MaxDiff(expected, hidden.data<float>().ToArray(), mask, architecture.Hidden);
            output.WriteLine($"{shape}: max |trainer from imported folder - torchsharp| {reloadDiff:E2}");
            Assert.True(reloadDiff < 1e-5, $"the trainer's encoder differs by {reloadDiff}");
        }
    }

    /// <summary>Largest |a - b| over the tokens the mask keeps (all when null).</summary>
    private static double MaxDiff(float[] a, ReadOnlySpan<float> b, long[]? mask, int width)
    {
        Assert.Equal(a.Length, b.Length);
        var max = 0.0;
        for (var i = 0; i < a.Length; i++)
        {
            if (mask is not null && mask[i / width] == 0)
                continue;
            max = Math.Max(max, Math.Abs(a[i] - b[i]));
        }
        return max;
    }
}
