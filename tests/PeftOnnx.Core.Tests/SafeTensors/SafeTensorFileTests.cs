using System.Buffers.Binary;
using System.Text;
using PeftOnnx.Core.SafeTensors;
using PeftOnnx.Tests;

namespace PeftOnnx.Core.Tests.SafeTensors;

public sealed class SafeTensorFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("safetensors-test").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Reads_peft_golden_adapter()
    {
        using var f = SafeTensorFile.Open(TestPaths.Fixture("peft", "lora_qv_r8", "adapter_model.safetensors"));
        var a = f["base_model.model.encoder.layer.0.attention.self.query.lora_A.weight"];
        Assert.Equal(SafeTensorDType.F32, a.DType);
        Assert.Equal(new long[] { 8, 384 }, a.Shape);
        Assert.Equal("pt", f.Metadata["format"]);
        Assert.Equal(24, f.Tensors.Count); // 6 layers x (query, value) x (A, B)
        Assert.Equal(8 * 384, f.ReadFloat32(a.Name).Length);
    }

    [Fact]
    public void Reads_int64_reference_inputs()
    {
        using var f = SafeTensorFile.Open(TestPaths.Fixture("peft", "base_last_hidden_state", "reference.safetensors"));
        var ids = f.ReadInt64("input_ids");
        Assert.Equal(4 * 35, ids.Length);
        Assert.Equal(101, ids[0]); // [CLS]
    }

    [Fact]
    public void Round_trips_written_tensors()
    {
        var path = Path.Combine(_dir, "rt.safetensors");
        float[] data = [1f, -2.5f, 3f, float.Epsilon, 0f, 6f];
        SafeTensorWriter.Write(path, [SafeTensor.FromFloat32("w", data, 2, 3), SafeTensor.FromInt64("n", [7L], 1)],
            new Dictionary<string, string> { ["format"] = "pt" });
        using var f = SafeTensorFile.Open(path);
        Assert.Equal(data, f.ReadFloat32("w"));
        Assert.Equal([7L], f.ReadInt64("n"));
        Assert.Equal(new long[] { 2, 3 }, f["w"].Shape);
        Assert.Equal("pt", f.Metadata["format"]);
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));
    }

    [Fact]
    public void Refuses_truncated_file()
    {
        var path = Path.Combine(_dir, "t.safetensors");
        SafeTensorWriter.Write(path, [SafeTensor.FromFloat32("w", new float[100], 10, 10)]);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^40]);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensorFile.Open(path));
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void Refuses_header_length_past_end_of_file()
    {
        var path = Path.Combine(_dir, "h.safetensors");
        var bytes = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 1000);
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensorFile.Open(path));
        Assert.Contains("header says 1000 bytes", e.Message);
    }

    [Theory]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,12]}}", "needs 16 bytes")]
    [InlineData("{\"w\":{\"dtype\":\"Q4\",\"shape\":[2],\"data_offsets\":[0,2]}}", "unknown dtype 'Q4'")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", "invalid dimension -1")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", "overlaps")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", "truncated")]
    [InlineData("not json", "not valid JSON")]
    [InlineData("[1,2]", "must be a JSON object")]
    // Found by fuzzing (tests/PeftOnnx.Fuzz/corpus/safetensors/crash-*): each threw InvalidOperationException.
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[\"0\",4]}}", "invalid data_offsets")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[\"1\"],\"data_offsets\":[0,4]}}", "invalid dimension \"1\"")]
    [InlineData("{\"__metadata__\":{\"\\ud800note\":\"x\"}}", "not valid JSON")]
    [InlineData("{\"w\":{\"dtype\":\"\\udc00\",\"shape\":[],\"data_offsets\":[0,4]}}", "not valid Unicode")]
    [InlineData("{\"w\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]},\"w\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]}}", "not valid JSON")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,0]}}", "too large")]
    public void Refuses_lying_headers(string header, string expected)
    {
        var path = Path.Combine(_dir, "lie.safetensors");
        var headerBytes = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + headerBytes.Length + 12];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)headerBytes.Length);
        headerBytes.CopyTo(bytes, 8);
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensorFile.Open(path));
        Assert.Contains(expected, e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Refuses_invalid_utf8_in_the_header()
    {
        // Found by fuzzing (corpus/safetensors/crash-invalid-utf8-name): a metadata key with a stray 0xFF byte.
        var path = Path.Combine(_dir, "utf8.safetensors");
        byte[] header = [.. "{\"__meta"u8, 0xFF, .. "ata__\":{}}"u8];
        var bytes = new byte[8 + header.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        File.WriteAllBytes(path, bytes);
        Assert.Contains("not valid", Assert.Throws<InvalidDataException>(() => SafeTensorFile.Open(path)).Message);
    }

    [Fact]
    public void Refuses_tiny_file()
    {
        var path = Path.Combine(_dir, "tiny.safetensors");
        File.WriteAllBytes(path, [1, 2, 3]);
        Assert.Contains("shorter than the 8-byte header", Assert.Throws<InvalidDataException>(() => SafeTensorFile.Open(path)).Message);
    }

    [Fact]
    public void Converts_half_precision()
    {
        var path = Path.Combine(_dir, "f16.safetensors");
        Half[] halves = [(Half)1.5f, (Half)(-2f)];
        var bytes = new byte[4];
        BinaryPrimitives.WriteHalfLittleEndian(bytes, halves[0]);
        BinaryPrimitives.WriteHalfLittleEndian(bytes.AsSpan(2), halves[1]);
        SafeTensorWriter.Write(path, [new SafeTensor("h", SafeTensorDType.F16, [2], bytes)]);
        using var f = SafeTensorFile.Open(path);
        Assert.Equal([1.5f, -2f], f.ReadFloat32("h"));
    }
}
