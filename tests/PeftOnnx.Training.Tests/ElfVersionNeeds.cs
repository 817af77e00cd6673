using System.Buffers.Binary;
using System.Text;

namespace PeftOnnx.Training.Tests;

/// <summary>Reads the flags of a required symbol version (a Vernaux entry) from an ELF64 little-endian file.</summary>
internal static class ElfVersionNeeds
{
    private const uint ShtGnuVerneed = 0x6ffffffe;

    /// <summary>True when every Vernaux entry named <paramref name="version"/> carries VER_FLG_WEAK; false when one does not or none exists.</summary>
    public static bool IsWeak(string path, string version)
    {
        var b = File.ReadAllBytes(path).AsSpan();
        var shoff = (int)BinaryPrimitives.ReadUInt64LittleEndian(b[0x28..]);
        int shentsize = BinaryPrimitives.ReadUInt16LittleEndian(b[0x3A..]);
        int shnum = BinaryPrimitives.ReadUInt16LittleEndian(b[0x3C..]);
        var found = 0;
        for (var i = 0; i < shnum; i++)
        {
            var sh = b[(shoff + i * shentsize)..];
            if (BinaryPrimitives.ReadUInt32LittleEndian(sh[4..]) != ShtGnuVerneed)
                continue;
            var need = (int)BinaryPrimitives.ReadUInt64LittleEndian(sh[24..]);
            var link = (int)BinaryPrimitives.ReadUInt32LittleEndian(sh[40..]);
            var count = BinaryPrimitives.ReadUInt32LittleEndian(sh[44..]);
            var strtab = (int)BinaryPrimitives.ReadUInt64LittleEndian(b[(shoff + link * shentsize + 24)..]);
            for (var n = 0; n < count; n++)
            {
                int auxCount = BinaryPrimitives.ReadUInt16LittleEndian(b[(need + 2)..]);
                var aux = need + (int)BinaryPrimitives.ReadUInt32LittleEndian(b[(need + 8)..]);
                for (var a = 0; a < auxCount; a++)
                {
                    var flags = BinaryPrimitives.ReadUInt16LittleEndian(b[(aux + 4)..]);
                    var nameAt = strtab + (int)BinaryPrimitives.ReadUInt32LittleEndian(b[(aux + 8)..]);
                    var name = Encoding.ASCII.GetString(b[nameAt..][..b[nameAt..].IndexOf((byte)0)]);
                    if (name == version)
                    {
                        if ((flags & 0x2) == 0)
                            return false;
                        found++;
                    }
                    aux += (int)BinaryPrimitives.ReadUInt32LittleEndian(b[(aux + 12)..]);
                }
                need += (int)BinaryPrimitives.ReadUInt32LittleEndian(b[(need + 12)..]);
            }
        }
        return found > 0;
    }
}
