using System.Buffers.Binary;
using CsCheck;
using PeftOnnx.Core.OrtAdapters;
using PeftOnnx.Fuzz.Targets;

namespace PeftOnnx.Fuzz.Tests;

/// <summary>Generated .onnx_adapter files: written ones parse back exactly; damaged ones end in the format error.</summary>
public sealed class OrtAdapterPropertyTests
{
    private static readonly Gen<OrtAdapterParameter> Parameter =
        from rows in Gen.Int[0, 4]
        from cols in Gen.Int[1, 4]
        from values in Gen.Float.Array[rows * cols]
        from name in Gen.String[Gen.Char.AlphaNumeric, 1, 12]
        select OrtAdapterParameter.FromFloat32(name, values, rows, cols);

    private static readonly Gen<OrtAdapterFile> Adapter =
        from parameters in Parameter.Array[0, 4]
        from version in Gen.Int
        select new OrtAdapterFile([.. parameters.DistinctBy(p => p.Name)], adapterVersion: version);

    [Fact]
    public void Written_files_parse_back_exactly()
    {
        Adapter.Sample(adapter =>
        {
            var parsed = OrtAdapterFile.Parse(adapter.ToBytes(), "generated.onnx_adapter");
            Assert.Equal(adapter.AdapterVersion, parsed.AdapterVersion);
            Assert.Equal(adapter.Parameters.Select(p => (p.Name, p.DataType)), parsed.Parameters.Select(p => (p.Name, p.DataType)));
            for (var i = 0; i < adapter.Parameters.Count; i++)
            {
                Assert.Equal(adapter.Parameters[i].Dims, parsed.Parameters[i].Dims);
                Assert.Equal(adapter.Parameters[i].RawData, parsed.Parameters[i].RawData);
            }
        }, iter: 500, threads: 1);
    }

    /// <summary>A valid file with 1 to 4 of its 32-bit words (offsets, lengths, dims) overwritten with boundary values.</summary>
    private static readonly Gen<byte[]> Damaged =
        from adapter in Adapter
        from edits in Gen.Select(Gen.Int[0, int.MaxValue], Gen.OneOf(0, 1, -1, 4, 8, int.MaxValue, int.MinValue, 1 << 20, 0x7FFF_FFF8)).Array[1, 4]
        select Damage(adapter.ToBytes(), edits);

    [Fact]
    public void Damaged_files_are_format_errors()
    {
        var target = new OrtAdapterTarget();
        Damaged.Sample(bytes =>
        {
            var outcome = target.Check(bytes);
            Assert.False(outcome.IsCrash, outcome.Error?.ToString());
        }, iter: 3000, threads: 1);
    }

    private static byte[] Damage(byte[] bytes, (int Position, int Value)[] edits)
    {
        foreach (var (position, value) in edits)
        {
            var at = position % Math.Max(1, bytes.Length / 4) * 4;
            if (at + 4 <= bytes.Length)
                BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(at), value);
        }
        return bytes;
    }
}
