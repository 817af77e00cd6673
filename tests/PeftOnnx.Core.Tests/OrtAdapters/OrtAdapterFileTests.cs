using Google.FlatBuffers;
using PeftOnnx.Core.OrtAdapters;
using Xunit.Abstractions;

namespace PeftOnnx.Core.Tests.OrtAdapters;

/// <summary>
/// The parser meets hostile files: whatever the bytes, <see cref="OrtAdapterFile.Parse"/> returns an adapter or throws
/// <see cref="InvalidDataException"/>; crafted files are built with Google.FlatBuffers' builder in the adapter schema.
/// </summary>
public sealed class OrtAdapterFileTests(ITestOutputHelper output)
{
    private static readonly OrtAdapterFile Valid = new(
    [
        OrtAdapterParameter.FromFloat32("encoder.layer.0.attention.self.query.lora_A", [.. Enumerable.Range(0, 8).Select(i => i * 0.5f)], 4, 2),
        OrtAdapterParameter.FromFloat32("encoder.layer.0.attention.self.query.lora_B", [.. Enumerable.Range(0, 6).Select(i => -i * 0.25f)], 2, 3),
    ], adapterVersion: 3, modelVersion: 7);

    [Fact]
    public void A_written_file_reads_back_the_same()
    {
        var read = OrtAdapterFile.Parse(Valid.ToBytes(), "valid.onnx_adapter");
        Assert.Equal(3, read.AdapterVersion);
        Assert.Equal(7, read.ModelVersion);
        Assert.Equal(Valid.Parameters.Select(p => (p.Name, p.ShapeText, p.DataType)), read.Parameters.Select(p => (p.Name, p.ShapeText, p.DataType)));
        Assert.Equal(Valid.Parameters[1].ToFloat32(), read.Parameters[1].ToFloat32());
    }

    [Fact]
    public void Dimensions_whose_product_overflows_are_a_format_error()
    {
        var bytes = Craft([1L << 40, 1L << 40], rawBytes: 16);
        var error = Assert.Throws<InvalidDataException>(() => OrtAdapterFile.Parse(bytes, "huge.onnx_adapter"));
        output.WriteLine(error.Message);
        Assert.Equal("huge.onnx_adapter: parameter p0 [1099511627776, 1099511627776] (Float) has 16 bytes of data, expected more than the file holds.", error.Message);
    }

    [Theory]
    [InlineData(new long[] { 2, -2 }, 16, "parameter p0 has dimension 1 = -2")]
    [InlineData(new long[] { 2, 3 }, 16, "has 16 bytes of data, expected 24")]
    public void Dimensions_that_do_not_match_the_data_are_a_format_error(long[] dims, int rawBytes, string expected)
    {
        var error = Assert.Throws<InvalidDataException>(() => OrtAdapterFile.Parse(Craft(dims, rawBytes), "bad.onnx_adapter"));
        output.WriteLine(error.Message);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_data_type_is_a_format_error()
    {
        var error = Assert.Throws<InvalidDataException>(() => OrtAdapterFile.Parse(Craft([4], 16, type: 99), "type.onnx_adapter"));
        Assert.Contains("data type 99", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parameters_sharing_one_data_vector_cannot_multiply_the_memory_a_small_file_costs()
    {
        var bytes = Craft([1024], rawBytes: 4096, parameters: 200, shareRaw: true);
        var error = Assert.Throws<InvalidDataException>(() => OrtAdapterFile.Parse(bytes, "shared.onnx_adapter"));
        output.WriteLine($"{bytes.Length} bytes: {error.Message}");
        Assert.Contains("share data", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_truncation_of_a_valid_file_is_a_format_error()
    {
        var bytes = Valid.ToBytes();
        for (var length = 0; length < bytes.Length; length++)
            Assert.Throws<InvalidDataException>(() => OrtAdapterFile.Parse(bytes[..length], $"truncated to {length}"));
        output.WriteLine($"{bytes.Length} truncations refused");
    }

    [Fact]
    public void Every_byte_flip_of_a_valid_file_parses_or_is_a_format_error()
    {
        var bytes = Valid.ToBytes();
        var (parsed, refused) = (0, 0);
        foreach (var mask in new byte[] { 0x01, 0x80, 0xFF })
        {
            for (var i = 0; i < bytes.Length; i++)
            {
                var flipped = (byte[])bytes.Clone();
                flipped[i] ^= mask;
                if (ParsesOrRefuses(flipped))
                    parsed++;
                else
                    refused++;
            }
        }
        output.WriteLine($"{parsed} flipped files parsed, {refused} refused");
        Assert.True(refused > 0);
    }

    [Fact]
    public void Random_bytes_behind_the_file_identifier_parse_or_are_a_format_error()
    {
        var random = new Random(12);
        var refused = 0;
        for (var n = 0; n < 5000; n++)
        {
            var bytes = new byte[random.Next(8, 512)];
            random.NextBytes(bytes);
            // small offsets keep some of them pointing inside the buffer
            bytes[0] = (byte)random.Next(8, Math.Min(bytes.Length, 64));
            (bytes[1], bytes[2], bytes[3]) = (0, 0, 0);
            "TORT"u8.CopyTo(bytes.AsSpan(4));
            if (!ParsesOrRefuses(bytes))
                refused++;
        }
        output.WriteLine($"{refused} of 5000 random files refused");
        Assert.True(refused > 0);
    }

    /// <summary>True when the bytes parse; false when refused with the format error; any other exception fails the test.</summary>
    private static bool ParsesOrRefuses(byte[] bytes)
    {
        try
        {
            OrtAdapterFile.Parse(bytes, "fuzzed");
            return true;
        }
        catch (InvalidDataException)
        {
            return false;
        }
    }

    /// <summary>An adapter file in the schema's layout with whatever dims, type and data length the test needs.</summary>
    private static byte[] Craft(long[] dims, int rawBytes, int type = (int)OrtAdapterDataType.Float, int parameters = 1, bool shareRaw = false)
    {
        var builder = new FlatBufferBuilder(1024);
        VectorOffset Raw()
        {
            builder.StartVector(1, rawBytes, 8);
            for (var i = 0; i < rawBytes; i++)
                builder.AddByte(0);
            return builder.EndVector();
        }
        var shared = shareRaw ? Raw() : default;
        var tables = new int[parameters];
        for (var p = 0; p < parameters; p++)
        {
            var raw = shareRaw ? shared : Raw();
            builder.StartVector(sizeof(long), dims.Length, sizeof(long));
            for (var i = dims.Length - 1; i >= 0; i--)
                builder.AddLong(dims[i]);
            var dimsVector = builder.EndVector();
            var name = builder.CreateString($"p{p}");
            builder.StartTable(4);
            builder.AddOffset(3, raw.Value, 0);
            builder.AddOffset(1, dimsVector.Value, 0);
            builder.AddOffset(0, name.Value, 0);
            builder.AddInt(2, type, 0);
            tables[p] = builder.EndTable();
        }
        builder.StartVector(sizeof(int), parameters, sizeof(int));
        for (var p = parameters - 1; p >= 0; p--)
            builder.AddOffset(tables[p]);
        var list = builder.EndVector();
        builder.StartTable(4);
        builder.AddOffset(3, list.Value, 0);
        builder.AddInt(0, OrtAdapterFile.FormatVersion, 0);
        builder.Finish(builder.EndTable(), OrtAdapterFile.FileIdentifier);
        return builder.SizedByteArray();
    }
}
