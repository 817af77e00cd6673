using Microsoft.ML.OnnxRuntime;
using PeftOnnx.Training.Encoder;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Tests;

/// <summary>The TorchSharp encoder with weights from model.onnx computes what ONNX Runtime and transformers compute.</summary>
public sealed class EncoderParityTests(MiniLmFixture miniLm, ITestOutputHelper output) : IClassFixture<MiniLmFixture>
{
    [Fact]
    public void Encoder_matches_onnx_runtime_on_minilm()
    {
        var (batch, _, _) = MiniLmFixture.Golden("base_last_hidden_state", "expected_last_hidden_state");
        using var _b = batch;
        using var model = miniLm.Base.CreateClassifier(12, Pooling.Pooler);
        model.eval();
        using var inference = inference_mode();
        var (hidden, _) = model.Bert.forward(batch);
        using var pooled = model.Bert.Pool(hidden);

        using var session = new InferenceSession(miniLm.Base.OnnxPath);
        var shape = batch.InputIds.shape;
        using var ids = OrtValue.CreateTensorValueFromMemory(batch.InputIds.data<long>().ToArray(), shape);
        using var mask = OrtValue.CreateTensorValueFromMemory(batch.AttentionMask.data<long>().ToArray(), shape);
        using var types = OrtValue.CreateTensorValueFromMemory(batch.TokenTypeIds.data<long>().ToArray(), shape);
        var pooledName = miniLm.Base.Manifest.Outputs["pooler_output"];
        using var results = session.Run(new RunOptions(), ["input_ids", "attention_mask", "token_type_ids"], [ids, mask, types], ["last_hidden_state", pooledName]);
        var ortHidden = results[0].GetTensorDataAsSpan<float>().ToArray();
        var ortPooled = results[1].GetTensorDataAsSpan<float>().ToArray();

        var hiddenDiff = MiniLmFixture.MaxAbsDiff(hidden, ortHidden, [shape[0], shape[1], 384]);
        var pooledDiff = MiniLmFixture.MaxAbsDiff(pooled, ortPooled, [shape[0], 384]);
        output.WriteLine($"max |torchsharp - onnxruntime|: last_hidden_state {hiddenDiff:E2}, pooler_output {pooledDiff:E2}");
        Assert.True(hiddenDiff < 1e-4, $"last_hidden_state differs by {hiddenDiff}");
        Assert.True(pooledDiff < 1e-4, $"pooler output differs by {pooledDiff}");
        hidden.Dispose();
    }

    [Fact]
    public void Encoder_matches_transformers_reference()
    {
        var (batch, expected, shape) = MiniLmFixture.Golden("base_last_hidden_state", "expected_last_hidden_state");
        using var _b = batch;
        using var model = miniLm.Base.CreateClassifier(12, Pooling.Pooler);
        model.eval();
        using var inference = inference_mode();
        var (hidden, _) = model.Bert.forward(batch);
        var diff = MiniLmFixture.MaxAbsDiff(hidden, expected, shape);
        output.WriteLine($"max |torchsharp - transformers| last_hidden_state: {diff:E2}");
        Assert.True(diff < 1e-4, $"last_hidden_state differs by {diff}");
        hidden.Dispose();
    }
}
