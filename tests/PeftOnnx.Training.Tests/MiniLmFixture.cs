using PeftOnnx.Core.SafeTensors;
using PeftOnnx.Runtime.Adapters;
using PeftOnnx.Training.Encoder;
using PeftOnnx.Tests;
using TorchSharp;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Tests;

/// <summary>The minilm-l6 base model (models/minilm-l6) with its weights read once for all tests of a class.</summary>
public sealed class MiniLmFixture
{
    public MiniLmFixture()
    {
        torch.set_num_threads(2);
        Base = BaseEncoder.Load(TestModels.EnsurePulled("minilm-l6"));
    }

    public BaseEncoder Base { get; }

    /// <summary>The inputs of a golden case (4 texts padded to 35 tokens) and one expected output tensor.</summary>
    public static (EncoderBatch Batch, float[] Expected, long[] Shape) Golden(string caseName, string expectedKey)
    {
        using var file = SafeTensorFile.Open(TestPaths.Fixture("peft", caseName, "reference.safetensors"));
        long[] Ids(string key) => file.ReadInt64(key);
        var shape = file["input_ids"].Shape;
        var batch = new EncoderBatch(tensor(Ids("input_ids"), shape), tensor(Ids("attention_mask"), shape), tensor(Ids("token_type_ids"), shape));
        return (batch, file.ReadFloat32(expectedKey), file[expectedKey].Shape);
    }

    /// <summary>
    /// The golden batch (rows of 15, 15, 19, 35 tokens, right-padded to 35) with row 3 cut to [CLS] x [SEP], as side
    /// inputs for ONNX Runtime and as an encoder batch for the trainer.
    /// </summary>
    public static (SideInputs Inputs, EncoderBatch Batch) RaggedBatch()
    {
        using var file = SafeTensorFile.Open(TestPaths.Fixture("peft", "seqcls_lora_qv_r8", "reference.safetensors"));
        var shape = file["input_ids"].Shape;
        var (ids, mask, types) = (file.ReadInt64("input_ids"), file.ReadInt64("attention_mask"), file.ReadInt64("token_type_ids"));
        var length = (int)shape[1];
        ids[3 * length + 2] = 102;
        for (var t = 3; t < length; t++)
            (ids[3 * length + t], mask[3 * length + t], types[3 * length + t]) = (0, 0, 0);
        return (new SideInputs(ids, mask, types, (int)shape[0], length), new EncoderBatch(tensor(ids, shape), tensor(mask, shape), tensor(types, shape)));
    }

    public static double MaxAbsDiff(Tensor actual, float[] expected, long[] shape)
    {
        Assert.Equal(shape, actual.shape);
        using var reference = tensor(expected, shape);
        using var diff = (actual.detach() - reference).abs().max();
        return diff.item<float>();
    }
}
