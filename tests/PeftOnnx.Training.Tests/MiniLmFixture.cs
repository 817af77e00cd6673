using PeftOnnx.Core.SafeTensors;
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

    public static double MaxAbsDiff(Tensor actual, float[] expected, long[] shape)
    {
        Assert.Equal(shape, actual.shape);
        using var reference = tensor(expected, shape);
        using var diff = (actual.detach() - reference).abs().max();
        return diff.item<float>();
    }
}
