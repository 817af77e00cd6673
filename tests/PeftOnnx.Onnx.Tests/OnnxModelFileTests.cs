using Microsoft.ML.OnnxRuntime;
using Onnx;
using PeftOnnx.Onnx;

namespace PeftOnnx.Onnx.Tests;

public sealed class OnnxModelFileTests
{
    [Fact]
    public void Load_then_save_is_byte_identical_for_minilm()
    {
        using var dir = new TempFolder();
        var saved = dir.Combine("model.onnx");

        OnnxModelFile.Save(MiniLm.Model, saved);

        Assert.Equal(MiniLm.Model, OnnxModelFile.Load(saved));
        Assert.True(File.ReadAllBytes(MiniLm.ModelPath).AsSpan().SequenceEqual(File.ReadAllBytes(saved)),
            "saving an unchanged model must reproduce the original bytes");
        Assert.False(File.Exists(saved + ".tmp"));
    }

    [Fact]
    public void External_data_round_trips_and_onnx_runtime_loads_it()
    {
        using var dir = new TempFolder();
        var saved = dir.Combine("external.onnx");

        OnnxModelFile.Save(MiniLm.Model, saved, new OnnxSaveOptions { ExternalData = ExternalDataMode.Always });

        Assert.True(new FileInfo(saved).Length < 1 << 20, $"model file {new FileInfo(saved).Length} bytes: the weights should be in the side file");
        Assert.True(File.Exists(saved + ".data"));
        Assert.All(MiniLm.Model.Graph.Initializer, t => Assert.NotEqual(TensorProto.Types.DataLocation.External, t.DataLocation));
        Assert.Equal(MiniLm.Model, OnnxModelFile.Load(saved));
        using var session = new InferenceSession(saved);
        Assert.Contains("last_hidden_state", session.OutputNames);
    }

    [Fact]
    public void Missing_side_file_names_tensor_and_file()
    {
        using var dir = new TempFolder();
        var saved = dir.Combine("external.onnx");
        OnnxModelFile.Save(MiniLm.Model, saved, new OnnxSaveOptions { ExternalData = ExternalDataMode.Always });
        File.Delete(saved + ".data");

        var e = Assert.Throws<InvalidDataException>(() => OnnxModelFile.Load(saved));

        Assert.Contains("external.onnx.data", e.Message);
        Assert.Contains("tensor '", e.Message);
    }

    [Fact]
    public void External_location_outside_the_model_folder_is_refused()
    {
        using var dir = new TempFolder();
        var model = TestGraphs.TinyMatMul();
        var tensor = model.Graph.Initializer[0];
        tensor.ClearRawData();
        tensor.DataLocation = TensorProto.Types.DataLocation.External;
        tensor.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "../../etc/passwd" });
        var path = dir.Combine("escape.onnx");
        OnnxModelFile.Save(model, path);

        var e = Assert.Throws<InvalidDataException>(() => OnnxModelFile.Load(path));

        Assert.Contains("outside the model's folder", e.Message);
    }

    [Theory]
    [InlineData("empty")]
    [InlineData("truncated")]
    [InlineData("random")]
    [InlineData("text")]
    public void Corrupt_files_throw_InvalidDataException_naming_the_file(string kind)
    {
        using var dir = new TempFolder();
        var path = dir.Combine($"{kind}.onnx");
        var original = File.ReadAllBytes(MiniLm.ModelPath);
        File.WriteAllBytes(path, kind switch
        {
            "empty" => [],
            "truncated" => original[..(original.Length / 2)],
            "random" => RandomBytes(4096),
            _ => "this is not a model\n"u8.ToArray(),
        });

        var e = Assert.Throws<InvalidDataException>(() => OnnxModelFile.Load(path));

        Assert.Contains(path, e.Message);
        Assert.Contains("not a valid ONNX model", e.Message);
    }

    [Fact]
    public void Raw_data_size_mismatch_is_reported_with_the_tensor()
    {
        using var dir = new TempFolder();
        var model = TestGraphs.TinyMatMul();
        model.Graph.Initializer[0].Dims[0] = 5; // now says 5x2 floats, holds 2x2
        var path = dir.Combine("mismatch.onnx");
        OnnxModelFile.Save(model, path);

        var e = Assert.Throws<InvalidDataException>(() => OnnxModelFile.Load(path));

        Assert.Contains("'w'", e.Message);
        Assert.Contains("needs 40 bytes of raw_data but has 16", e.Message);
    }

    private static byte[] RandomBytes(int n)
    {
        var bytes = new byte[n];
        new Random(42).NextBytes(bytes);
        return bytes;
    }
}
