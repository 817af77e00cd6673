using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using CsCheck;
using PeftOnnx.Core.SafeTensors;
using PeftOnnx.Fuzz.Targets;

namespace PeftOnnx.Fuzz.Tests;

/// <summary>Generated .safetensors files: written ones read back exactly; lying headers end in the format error.</summary>
public sealed class SafeTensorsPropertyTests : IDisposable
{
    private readonly ScratchFolder _scratch = new("safetensors-tests");

    private static readonly Gen<SafeTensor> Tensor =
        from dtype in Gen.Enum<SafeTensorDType>()
        from shape in Gen.Long[0, 4].Array[0, 3]
        from fill in Gen.Byte
        select new SafeTensor($"t{fill}", dtype, shape,
            [.. Enumerable.Range(0, (int)(shape.Aggregate(1L, (n, d) => n * d) * dtype.ElementSize())).Select(i => (byte)(i * 31 + fill))]);

    private static readonly Gen<SafeTensor[]> UniqueTensors =
        Tensor.Array[0, 5].Select(ts => ts.Select((t, i) => t with { Name = $"{t.Name}.{i}" }).ToArray());

    [Fact]
    public void Written_files_read_back_exactly()
    {
        UniqueTensors.Sample(tensors =>
        {
            var path = Path.Combine(_scratch.Path, "rt.safetensors");
            SafeTensorWriter.Write(path, tensors);
            using var file = SafeTensorFile.Open(path);
            Assert.Equal(tensors.Select(t => t.Name), file.Tensors.Select(t => t.Name));
            foreach (var t in tensors)
            {
                Assert.Equal(t.DType, file[t.Name].DType);
                Assert.Equal(t.Shape, file[t.Name].Shape);
                Assert.Equal(t.Data, file.ReadBytes(t.Name));
            }
        }, iter: 300, threads: 1);
    }

    /// <summary>A header whose entries have the right keys but boundary values: huge or negative dims and offsets, odd dtypes.</summary>
    private static readonly Gen<byte[]> LyingFile =
        from entries in Gen.Select(
            JsonGen.AwkwardString,
            Gen.OneOf(Gen.OneOf(SafeTensorDTypes.Supported.Split(", ")), JsonGen.AwkwardString),
            JsonGen.Value.Array[0, 4],
            Gen.Select(JsonGen.Value, JsonGen.Value)).Array[0, 4]
        from dataLength in Gen.Int[0, 64]
        select File(entries, dataLength);

    [Fact]
    public void Lying_headers_are_format_errors()
    {
        var target = new SafeTensorsTarget();
        LyingFile.Sample(bytes =>
        {
            var outcome = target.Check(bytes);
            Assert.False(outcome.IsCrash, outcome.Error?.ToString());
        }, iter: 2000, threads: 1);
    }

    private static byte[] File((string Name, string DType, JsonNode?[] Shape, (JsonNode? Begin, JsonNode? End) Offsets)[] entries, int dataLength)
    {
        var header = new JsonObject();
        foreach (var (name, dtype, shape, (begin, end)) in entries)
        {
            header[name] = new JsonObject
            {
                ["dtype"] = dtype,
                ["shape"] = new JsonArray([.. shape.Select(d => d?.DeepClone())]),
                ["data_offsets"] = new JsonArray(begin?.DeepClone(), end?.DeepClone()),
            };
        }
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        var bytes = new byte[8 + json.Length + dataLength];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);
        return bytes;
    }

    public void Dispose() => _scratch.Dispose();
}
