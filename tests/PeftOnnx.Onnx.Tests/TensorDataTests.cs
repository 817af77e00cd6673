using Google.Protobuf;
using Onnx;
using PeftOnnx.Onnx;

namespace PeftOnnx.Onnx.Tests;

public sealed class TensorDataTests
{
    [Fact]
    public void Float32_raw_data_is_little_endian_and_round_trips()
    {
        var tensor = TensorData.FromFloat32("w", [1f, -2.5f, 3e-8f, float.MaxValue, 0f, 7f], 2, 3);

        Assert.Equal(new long[] { 2, 3 }, TensorData.Shape(tensor));
        Assert.Equal((int)TensorProto.Types.DataType.Float, tensor.DataType);
        Assert.Equal(new byte[] { 0x00, 0x00, 0x80, 0x3F }, tensor.RawData.Span[..4].ToArray()); // 1.0f little-endian
        Assert.Equal(new[] { 1f, -2.5f, 3e-8f, float.MaxValue, 0f, 7f }, TensorData.ToFloat32(tensor));
        Assert.Equal(new[] { 1d, -2.5d, (double)3e-8f, float.MaxValue, 0d, 7d }, TensorData.ToFloat64(tensor));
    }

    [Fact]
    public void Typed_fields_are_read_when_there_is_no_raw_data()
    {
        var floats = new TensorProto { Name = "f", DataType = (int)TensorProto.Types.DataType.Float, Dims = { 3 }, FloatData = { 1, 2, 3 } };
        var longs = new TensorProto { Name = "l", DataType = (int)TensorProto.Types.DataType.Int64, Dims = { 2 }, Int64Data = { -1, long.MaxValue } };
        var ints = new TensorProto { Name = "i", DataType = (int)TensorProto.Types.DataType.Int32, Dims = { 2 }, Int32Data = { -7, 9 } };
        // FLOAT16 in int32_data: the bits of 1.0 (0x3C00) and -2.0 (0xC000).
        var halves = new TensorProto { Name = "h", DataType = (int)TensorProto.Types.DataType.Float16, Dims = { 2 }, Int32Data = { 0x3C00, 0xC000 } };

        Assert.Equal(new[] { 1f, 2f, 3f }, TensorData.ToFloat32(floats));
        Assert.Equal(new[] { -1L, long.MaxValue }, TensorData.ToInt64(longs));
        Assert.Equal(new[] { -7L, 9L }, TensorData.ToInt64(ints));
        Assert.Equal(new[] { 1f, -2f }, TensorData.ToFloat32(halves));
    }

    [Fact]
    public void Float16_rounds_to_nearest_and_reads_back()
    {
        var tensor = TensorData.FromFloat32AsFloat16("h", [1f, 0.1f, 70000f], 3);

        Assert.Equal((int)TensorProto.Types.DataType.Float16, tensor.DataType);
        Assert.Equal(6, tensor.RawData.Length);
        var back = TensorData.ToFloat32(tensor);
        Assert.Equal(1f, back[0]);
        Assert.Equal(0.0999755859375f, back[1]); // nearest half to 0.1
        Assert.True(float.IsPositiveInfinity(back[2]));
    }

    [Fact]
    public void Int_factories_round_trip()
    {
        Assert.Equal(new[] { 5L, -6L }, TensorData.ToInt64(TensorData.FromInt64("a", [5, -6], 2)));
        Assert.Equal(new[] { 5L, -6L }, TensorData.ToInt64(TensorData.FromInt32("b", [5, -6], 2)));
        Assert.Equal(new byte[] { 0xFF, 0x7F }, TensorData.FromInt8("c", [-1, 127], 2).RawData.ToByteArray());
        Assert.Equal(new byte[] { 0, 255 }, TensorData.FromUInt8("d", [0, 255], 2).RawData.ToByteArray());
        Assert.Equal(new[] { 42f }, TensorData.ToFloat32(TensorData.FromFloat32("scalar", [42f])));
    }

    [Fact]
    public void Shape_and_value_count_must_agree()
    {
        var e = Assert.Throws<ArgumentException>(() => TensorData.FromFloat32("w", [1, 2, 3], 2, 2));
        Assert.Contains("shape [2, 2] holds 4 elements but 3 values were given", e.Message);

        var broken = new TensorProto { Name = "x", DataType = (int)TensorProto.Types.DataType.Float, Dims = { 4 }, RawData = ByteString.CopyFrom(new byte[8]) };
        var read = Assert.Throws<InvalidDataException>(() => TensorData.ToFloat32(broken));
        Assert.Contains("needs 16 bytes of raw_data but has 8", read.Message);
    }

    [Fact]
    public void Unsupported_element_type_is_named()
    {
        var strings = new TensorProto { Name = "s", DataType = (int)TensorProto.Types.DataType.String, Dims = { 1 }, StringData = { ByteString.CopyFromUtf8("a") } };

        var e = Assert.Throws<NotSupportedException>(() => TensorData.ToFloat32(strings));

        Assert.Contains("STRING", e.Message);
    }
}
