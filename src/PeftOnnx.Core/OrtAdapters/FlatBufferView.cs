using System.Buffers.Binary;

namespace PeftOnnx.Core.OrtAdapters;

/// <summary>
/// Reads a FlatBuffer whose bytes come from anywhere: every offset, vtable entry and vector length is checked (in 64-bit
/// arithmetic) against the buffer before it is followed, so a hostile file yields an
/// <see cref="InvalidDataException"/> naming the position, never a read outside the buffer or a huge allocation.
/// Positions are byte offsets from the start of the buffer.
/// <code>
///   buffer: [root uoffset][file identifier]...   table: [soffset to its vtable][fields...]
///   vtable: [u16 vtable size][u16 table size][u16 field offset per slot...]   vector: [u32 count][elements...]
/// </code>
/// </summary>
internal readonly struct FlatBufferView(byte[] bytes, string source)
{
    public int Length => bytes.Length;

    /// <summary>The root table (the uoffset at the start of the buffer).</summary>
    public long Root() => Follow(0, "the root table");

    /// <summary>Where the field of vtable slot <paramref name="slot"/> (4 + 2 * field index) lies, or -1 when absent.</summary>
    public long Field(long table, int slot, int size, string what)
    {
        var vtable = table - I32(table, what);
        var vtableSize = U16(vtable, what);
        var tableSize = U16(vtable + 2, what);
        if (vtableSize < 4 || vtableSize % 2 != 0 || vtable + vtableSize > Length || table + tableSize > Length)
            throw Damaged($"{what} has a vtable at {vtable} that does not fit (vtable size {vtableSize}, table size {tableSize})");
        if (slot + 2 > vtableSize)
            return -1;
        var offset = U16(vtable + slot, what);
        if (offset == 0)
            return -1;
        if (offset + size > tableSize)
            throw Damaged($"{what} has a field at offset {offset} outside its table of {tableSize} bytes");
        return table + offset;
    }

    /// <summary>An int32 field, or <paramref name="fallback"/> when absent.</summary>
    public int Int(long table, int slot, int fallback, string what)
    {
        var field = Field(table, slot, sizeof(int), what);
        return field < 0 ? fallback : I32(field, what);
    }

    /// <summary>The table an offset field points to, or -1 when absent.</summary>
    public long Table(long table, int slot, string what)
    {
        var field = Field(table, slot, sizeof(uint), what);
        return field < 0 ? -1 : Follow(field, what);
    }

    /// <summary>Start and element count of a vector field of <paramref name="elementSize"/>-byte elements; (0, 0) when absent.</summary>
    public (long Start, int Count) Vector(long table, int slot, int elementSize, string what)
    {
        var field = Field(table, slot, sizeof(uint), what);
        if (field < 0)
            return (0, 0);
        var vector = Follow(field, what);
        var count = U32(vector, what);
        var start = vector + sizeof(uint);
        if (count * elementSize > Length - start)
            throw Damaged($"{what} claims {count:N0} elements of {elementSize} bytes at {start}, past the end of the {Length:N0}-byte file");
        return (start, (int)count);
    }

    /// <summary>The table whose uoffset sits at <paramref name="position"/> (an element of a vector of tables).</summary>
    public long Follow(long position, string what)
    {
        var target = position + U32(position, what);
        if (target + sizeof(int) > Length)
            throw Damaged($"{what} points to {target}, past the end of the {Length:N0}-byte file");
        return target;
    }

    public ReadOnlySpan<byte> Bytes(long start, int count) => bytes.AsSpan((int)start, count);

    public long I64(long position, string what)
    {
        Check(position, sizeof(long), what);
        return BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan((int)position));
    }

    public InvalidDataException Damaged(string problem) =>
        new($"{source} is a damaged ONNX Runtime adapter file: {problem}; export the adapter again.");

    private int I32(long position, string what)
    {
        Check(position, sizeof(int), what);
        return BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan((int)position));
    }

    private long U32(long position, string what)
    {
        Check(position, sizeof(uint), what);
        return BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan((int)position));
    }

    private int U16(long position, string what)
    {
        Check(position, sizeof(ushort), what);
        return BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan((int)position));
    }

    private void Check(long position, int size, string what)
    {
        if (position < 0 || position + size > Length)
            throw Damaged($"{what} reads {size} bytes at {position}, outside the {Length:N0}-byte file");
    }
}
