using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;
using PeftOnnx.Core.Files;

namespace PeftOnnx.Core.SafeTensors;

/// <summary>
/// Reads a .safetensors file (8-byte little-endian header length, JSON header, raw little-endian data).
/// <see cref="Open"/> validates the whole header up front, so a truncated or lying file fails before any
/// tensor is used; errors are <see cref="InvalidDataException"/>s naming the file and the problem.
/// The caller disposes the returned file (it holds an open handle).
/// </summary>
public sealed class SafeTensorFile : IDisposable
{
    /// <summary>Headers larger than this are refused (the reference implementation uses 100 MB).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private readonly SafeFileHandle _handle;
    private readonly Dictionary<string, SafeTensorInfo> _byName;
    private readonly long _dataStart;

    private SafeTensorFile(string path, SafeFileHandle handle, List<SafeTensorInfo> tensors, Dictionary<string, string> metadata, long dataStart)
    {
        Path = path;
        _handle = handle;
        Tensors = tensors;
        Metadata = metadata;
        _dataStart = dataStart;
        _byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    public string Path { get; }

    /// <summary>Tensors in data order.</summary>
    public IReadOnlyList<SafeTensorInfo> Tensors { get; }

    /// <summary>The optional "__metadata__" string map.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    public SafeTensorInfo this[string name] => _byName.TryGetValue(name, out var info)
        ? info
        : throw new KeyNotFoundException($"{Path} has no tensor '{name}'.");

    public bool Contains(string name) => _byName.ContainsKey(name);

    public static SafeTensorFile Open(string path)
    {
        var handle = RegularFile.OpenHandle(path);
        try
        {
            var (tensors, metadata, dataStart) = ReadHeader(path, handle);
            return new SafeTensorFile(path, handle, tensors, metadata, dataStart);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>The tensor's raw little-endian bytes.</summary>
    public byte[] ReadBytes(string name)
    {
        var info = this[name];
        var bytes = new byte[info.End - info.Begin];
        var read = RandomAccess.Read(_handle, bytes, _dataStart + info.Begin);
        if (read != bytes.Length)
            throw new InvalidDataException($"{Path}: tensor '{name}' ends past the end of the file.");
        return bytes;
    }

    /// <summary>The tensor as float32, converting from F64, F16 or BF16.</summary>
    public float[] ReadFloat32(string name)
    {
        var info = this[name];
        var bytes = ReadBytes(name);
        var result = new float[info.ElementCount];
        switch (info.DType)
        {
            case SafeTensorDType.F32:
                MemoryMarshal.Cast<byte, float>(bytes).CopyTo(result);
                break;
            case SafeTensorDType.F64:
                var doubles = MemoryMarshal.Cast<byte, double>(bytes);
                for (var i = 0; i < result.Length; i++) result[i] = (float)doubles[i];
                break;
            case SafeTensorDType.F16:
                var halves = MemoryMarshal.Cast<byte, Half>(bytes);
                for (var i = 0; i < result.Length; i++) result[i] = (float)halves[i];
                break;
            case SafeTensorDType.BF16:
                var raw = MemoryMarshal.Cast<byte, ushort>(bytes);
                for (var i = 0; i < result.Length; i++) result[i] = BitConverter.Int32BitsToSingle(raw[i] << 16);
                break;
            default:
                throw new InvalidDataException($"{Path}: tensor '{name}' is {info.DType.HeaderName()}, expected a floating-point tensor.");
        }
        return result;
    }

    /// <summary>The tensor as float64 (for float64 merging).</summary>
    public double[] ReadFloat64(string name)
    {
        if (this[name].DType == SafeTensorDType.F64)
            return MemoryMarshal.Cast<byte, double>(ReadBytes(name)).ToArray();
        return Array.ConvertAll(ReadFloat32(name), v => (double)v);
    }

    /// <summary>The tensor as int64, widening I32/I16/I8/U8.</summary>
    public long[] ReadInt64(string name)
    {
        var info = this[name];
        var bytes = ReadBytes(name);
        return info.DType switch
        {
            SafeTensorDType.I64 => MemoryMarshal.Cast<byte, long>(bytes).ToArray(),
            SafeTensorDType.I32 => Array.ConvertAll(MemoryMarshal.Cast<byte, int>(bytes).ToArray(), v => (long)v),
            SafeTensorDType.I16 => Array.ConvertAll(MemoryMarshal.Cast<byte, short>(bytes).ToArray(), v => (long)v),
            SafeTensorDType.I8 => Array.ConvertAll(MemoryMarshal.Cast<byte, sbyte>(bytes).ToArray(), v => (long)v),
            SafeTensorDType.U8 or SafeTensorDType.Bool => Array.ConvertAll(bytes, v => (long)v),
            _ => throw new InvalidDataException($"{Path}: tensor '{name}' is {info.DType.HeaderName()}, expected an integer tensor."),
        };
    }

    public void Dispose() => _handle.Dispose();

    private static (List<SafeTensorInfo>, Dictionary<string, string>, long) ReadHeader(string path, SafeFileHandle handle)
    {
        var fileLength = RandomAccess.GetLength(handle);
        if (fileLength < 8)
            throw new InvalidDataException($"{path} is not a safetensors file: {fileLength} bytes, shorter than the 8-byte header length.");
        Span<byte> prefix = stackalloc byte[8];
        RandomAccess.Read(handle, prefix, 0);
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > MaxHeaderBytes)
            throw new InvalidDataException($"{path}: header length {headerLength} exceeds the {MaxHeaderBytes}-byte limit (corrupt or not a safetensors file).");
        if ((long)headerLength > fileLength - 8)
            throw new InvalidDataException($"{path} is truncated: header says {headerLength} bytes but only {fileLength - 8} follow.");

        var headerBytes = new byte[headerLength];
        RandomAccess.Read(handle, headerBytes, 8);
        var dataStart = 8 + (long)headerLength;
        var dataLength = fileLength - dataStart;

        JsonDocument doc;
        try
        {
            // A tensor name given twice would leave two entries for one name: refuse it.
            doc = JsonDocument.Parse(headerBytes, new JsonDocumentOptions { AllowDuplicateProperties = false });
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // The duplicate check reads property names, and throws InvalidOperationException for a lone "\ud800" escape.
            throw new InvalidDataException($"{path}: header is not valid JSON ({e.Message}).", e);
        }
        using (doc)
        {
            try
            {
                if (doc.RootElement.ValueKind != JsonValueKind.Object)
                    throw new InvalidDataException($"{path}: header must be a JSON object, got {doc.RootElement.ValueKind}.");
                var tensors = new List<SafeTensorInfo>();
                var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var entry in doc.RootElement.EnumerateObject())
                {
                    if (entry.Name == "__metadata__")
                    {
                        if (entry.Value.ValueKind != JsonValueKind.Object)
                            throw new InvalidDataException($"{path}: __metadata__ must be an object of strings.");
                        foreach (var m in entry.Value.EnumerateObject())
                            metadata[m.Name] = m.Value.ValueKind == JsonValueKind.String ? m.Value.GetString()! : m.Value.GetRawText();
                        continue;
                    }
                    tensors.Add(ParseEntry(path, entry));
                }
                ValidateLayout(path, tensors, dataLength);
                tensors.Sort((a, b) => a.Begin.CompareTo(b.Begin));
                return (tensors, metadata, dataStart);
            }
            catch (InvalidOperationException e)
            {
                // JsonDocument checks strings only when they are read: invalid UTF-8 or a lone surrogate escape ("\ud800").
                throw new InvalidDataException($"{path}: header holds a string that is not valid Unicode ({e.Message}).", e);
            }
        }
    }

    private static SafeTensorInfo ParseEntry(string path, JsonProperty entry)
    {
        var v = entry.Value;
        if (v.ValueKind != JsonValueKind.Object
            || !v.TryGetProperty("dtype", out var dtypeEl) || dtypeEl.ValueKind != JsonValueKind.String
            || !v.TryGetProperty("shape", out var shapeEl) || shapeEl.ValueKind != JsonValueKind.Array
            || !v.TryGetProperty("data_offsets", out var offEl) || offEl.ValueKind != JsonValueKind.Array || offEl.GetArrayLength() != 2)
            throw new InvalidDataException($"{path}: tensor '{entry.Name}' needs dtype, shape and data_offsets [begin, end].");
        if (!SafeTensorDTypes.TryParse(dtypeEl.GetString()!, out var dtype))
            throw new InvalidDataException($"{path}: tensor '{entry.Name}' has unknown dtype '{dtypeEl.GetString()}' (supported: {SafeTensorDTypes.Supported}).");
        var shape = new long[shapeEl.GetArrayLength()];
        var i = 0;
        foreach (var d in shapeEl.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out var dim) || dim < 0)
                throw new InvalidDataException($"{path}: tensor '{entry.Name}' has an invalid dimension {d.GetRawText()}.");
            shape[i++] = dim;
        }
        if (offEl[0].ValueKind != JsonValueKind.Number || offEl[1].ValueKind != JsonValueKind.Number
            || !offEl[0].TryGetInt64(out var begin) || !offEl[1].TryGetInt64(out var end) || begin < 0 || end < begin)
            throw new InvalidDataException($"{path}: tensor '{entry.Name}' has invalid data_offsets {offEl.GetRawText()}.");
        var info = new SafeTensorInfo(entry.Name, dtype, shape, begin, end);
        long expected;
        try
        {
            expected = checked(info.ElementCount * dtype.ElementSize());
        }
        catch (OverflowException)
        {
            throw new InvalidDataException($"{path}: tensor '{entry.Name}' shape {info.ShapeText} is too large.");
        }
        if (end - begin != expected)
            throw new InvalidDataException(
                $"{path}: tensor '{entry.Name}' ({dtype.HeaderName()} {info.ShapeText}) needs {expected} bytes but data_offsets [{begin}, {end}] give {end - begin}.");
        return info;
    }

    private static void ValidateLayout(string path, List<SafeTensorInfo> tensors, long dataLength)
    {
        var ordered = tensors.OrderBy(t => t.Begin).ToList();
        long cursor = 0;
        foreach (var t in ordered)
        {
            if (t.Begin < cursor)
                throw new InvalidDataException($"{path}: tensor '{t.Name}' overlaps the previous tensor (begins at {t.Begin}, previous ends at {cursor}).");
            cursor = t.End;
        }
        if (cursor > dataLength)
            throw new InvalidDataException($"{path} is truncated: tensors need {cursor} data bytes but the file holds {dataLength}.");
    }
}
