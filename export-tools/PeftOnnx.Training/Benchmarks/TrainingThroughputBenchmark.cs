using Microsoft.ML.OnnxRuntime;
using PeftOnnx.Benchmarking;
using PeftOnnx.Runtime.Tokenization;
using PeftOnnx.Training.Data;
using PeftOnnx.Training.Encoder;
using PeftOnnx.Training.Methods;
using PeftOnnx.Training.TrainingLoop;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Benchmarks;

/// <summary>
/// Training steps (forward, backward, clip, AdamW) against ONNX Runtime fp32 inference (CPU provider, all graph
/// optimisations) on the same length-bucketed batches of real documents, timed by the shared
/// <see cref="AlternatingTimer"/>: each batch is run by both, one after the other, so a shared machine's changing
/// load hits both sides alike.
/// </summary>
public static class TrainingThroughputBenchmark
{
    public static ThroughputResult Run(BaseEncoder encoder, string dataPath, PeftMethod method, int batches, int batchSize, int maxLength, int threads, int seed = 1, bool gradientCheckpointing = false)
    {
        torch.set_num_threads(threads);
        var tokenizer = BertTokenizer.FromFile(encoder.VocabPath, encoder.Manifest.Tokenizer);
        var rows = TextClassificationData.Read(dataPath);
        var labels = new LabelSet(rows.Select(r => r.Label));
        var examples = rows.Select(r => new TokenizedExample(tokenizer.Encode(r.Text, maxLength).Ids, labels.IdOf(r))).ToList();
        var order = LengthBuckets.ForTraining(examples, batchSize, new Random(seed));
        if (order.Count < batches + 1)
            throw new ArgumentException($"{dataPath} gives {order.Count} batches of {batchSize}; ask for at most {order.Count - 1}.");

        random.manual_seed(seed);
        using var model = encoder.CreateClassifier(labels.Count, Pooling.Pooler);
        method.Apply(model);
        model.train();
        var parameters = TrainableParameterReport.Of(model);
        var trainable = model.parameters().Where(p => p.requires_grad).ToList();
        using var optimizer = optim.AdamW(trainable, 1e-4, 0.9, 0.999, 1e-8, 0.01, false, false);
        model.Bert.Encoder.GradientCheckpointing = gradientCheckpointing;
        GC.Collect();
        var loaded = PeakMemory.CurrentBytes();

        // Memory first, on the longest batch and before ONNX Runtime allocates anything: two steps, so AdamW's state
        // and the allocator's reuse are in the peak.
        var longest = order.OrderByDescending(b => b.Length * b.Max(i => examples[i].Length)).First();
        TrainStep(model, optimizer, trainable, examples, longest, tokenizer.PadId);
        TrainStep(model, optimizer, trainable, examples, longest, tokenizer.PadId);
        var trainingPeak = PeakMemory.Bytes();

        using var sessionOptions = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = threads, InterOpNumThreads = 1 };
        using var session = new InferenceSession(encoder.OnnxPath, sessionOptions);

        // Warm-up on a batch that is not timed (the first AdamW step allocates its state, ORT plans its memory),
        // then round r runs batch r + 1 through both.
        var indices = order[0];
        long tokens = 0;
        var timed = false;
        var summaries = new AlternatingTimer(batches).Measure(
            [
                () =>
                {
                    var padded = Infer(session, examples, indices, tokenizer.PadId);
                    if (timed)
                        tokens += padded;
                },
                () => TrainStep(model, optimizer, trainable, examples, indices, tokenizer.PadId),
            ],
            round => (indices, timed) = (order[round + 1], true));
        return new ThroughputResult
        {
            Method = method.Name,
            TrainableParameters = parameters.Trainable,
            TrainablePercent = parameters.Percent,
            Batches = batches,
            Tokens = tokens,
            TrainSeconds = summaries[1].Total / 1000,
            InferenceSeconds = summaries[0].Total / 1000,
            GradientCheckpointing = gradientCheckpointing,
            ModelLoadedBytes = loaded,
            TrainingPeakBytes = trainingPeak,
            PeakMemoryBytes = PeakMemory.Bytes(),
        };
    }

    private static void TrainStep(BertForSequenceClassification model, AdamW optimizer, List<Parameter> trainable, List<TokenizedExample> examples, int[] indices, int padId)
    {
        using var scope = NewDisposeScope();
        var (batch, labels) = BatchCollator.Collate(examples, indices, padId, CPU);
        var loss = nn.functional.cross_entropy(model.forward(batch), labels);
        optimizer.zero_grad();
        loss.backward();
        nn.utils.clip_grad_norm_(trainable, 1.0);
        optimizer.step();
    }

    /// <returns>The padded token count of the batch.</returns>
    private static long Infer(InferenceSession session, List<TokenizedExample> examples, int[] indices, int padId)
    {
        var length = indices.Max(i => examples[i].Length);
        var ids = new long[indices.Length * length];
        var mask = new long[ids.Length];
        for (var r = 0; r < indices.Length; r++)
        {
            var e = examples[indices[r]];
            for (var t = 0; t < length; t++)
            {
                ids[r * length + t] = t < e.Length ? e.Ids[t] : padId;
                mask[r * length + t] = t < e.Length ? 1 : 0;
            }
        }
        long[] shape = [indices.Length, length];
        using var idsValue = OrtValue.CreateTensorValueFromMemory(ids, shape);
        using var maskValue = OrtValue.CreateTensorValueFromMemory(mask, shape);
        using var typesValue = OrtValue.CreateTensorValueFromMemory(new long[ids.Length], shape);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, ["input_ids", "attention_mask", "token_type_ids"], [idsValue, maskValue, typesValue], [session.OutputNames[0]]);
        return ids.Length;
    }
}
