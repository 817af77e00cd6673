using System.Text;
using Google.FlatBuffers;
using PeftOnnx.Core.Files;

namespace PeftOnnx.Core.OrtAdapters;

/// <summary>
/// ONNX Runtime's <c>.onnx_adapter</c> file (onnxruntime/lora/adapter_format/adapter_schema.fbs, format version 1),
/// written with Google.FlatBuffers' builder and read with bounds-checked reads (<see cref="FlatBufferView"/>), by a
/// hand-written table layout (no flatc step: the schema has two tables):
/// <code>
///   table Parameter { name:string; dims:[int64]; data_type:TensorDataType(int32); raw_data:[uint8] (force_align: 8); }
///   table Adapter   { format_version:int; adapter_version:int; model_version:int; parameters:[Parameter]; }
///   root_type Adapter; file_identifier "TORT";
/// </code>
/// ONNX Runtime loads these with <c>OrtLoraAdapter.Create(path, allocator)</c>.
/// </summary>
public sealed class OrtAdapterFile
{
    public const string Extension = ".onnx_adapter";
    public const string FileIdentifier = "TORT";
    public const int FormatVersion = 1;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    // vtable slots: 4 + 2 * field index
    private const int ParameterName = 4, ParameterDims = 6, ParameterDataType = 8, ParameterRawData = 10;
    private const int AdapterFormatVersion = 4, AdapterAdapterVersion = 6, AdapterModelVersion = 8, AdapterParameters = 10;

    public OrtAdapterFile(IReadOnlyList<OrtAdapterParameter> parameters, int adapterVersion = 0, int modelVersion = 0)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var duplicate = parameters.GroupBy(p => p.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new ArgumentException($"adapter parameter {duplicate.Key} appears {duplicate.Count()} times; names must be unique.", nameof(parameters));
        Parameters = parameters;
        AdapterVersion = adapterVersion;
        ModelVersion = modelVersion;
    }

    public IReadOnlyList<OrtAdapterParameter> Parameters { get; }

    public int AdapterVersion { get; }

    public int ModelVersion { get; }

    public byte[] ToBytes()
    {
        var size = Parameters.Sum(p => (long)p.RawData.Length + p.Name.Length + p.Dims.Length * 8 + 64) + 64;
        var builder = new FlatBufferBuilder((int)Math.Min(size, int.MaxValue / 2));
        var offsets = new Offset<Table>[Parameters.Count];
        for (var i = 0; i < Parameters.Count; i++)
            offsets[i] = WriteParameter(builder, Parameters[i]);

        builder.StartVector(sizeof(int), offsets.Length, sizeof(int));
        for (var i = offsets.Length - 1; i >= 0; i--) // FlatBuffers builds back to front
            builder.AddOffset(offsets[i].Value);
        var parameters = builder.EndVector();

        builder.StartTable(4);
        builder.AddOffset(3, parameters.Value, 0);
        builder.AddInt(2, ModelVersion, 0);
        builder.AddInt(1, AdapterVersion, 0);
        builder.AddInt(0, FormatVersion, 0);
        var root = builder.EndTable();
        builder.Finish(root, FileIdentifier);
        return builder.SizedByteArray();
    }

    /// <summary>Writes atomically (temp file, then rename), so a reader never sees half a file.</summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var tmp = $"{full}.tmp-{Guid.NewGuid().ToString("N")[..8]}";
        try
        {
            File.WriteAllBytes(tmp, ToBytes());
            File.Move(tmp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp))
                File.Delete(tmp);
        }
    }

    /// <summary>Reads and parses a file; anything but a regular file (a FIFO, a device) is refused without blocking.</summary>
    public static OrtAdapterFile Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Parse(RegularFile.ReadAllBytes(path), path);
    }

    /// <summary>
    /// Parses and checks a file's bytes; <paramref name="source"/> names it in errors. Every count, dimension and offset
    /// is checked against the buffer before use, so any input yields either the adapter or an
    /// <see cref="InvalidDataException"/> (the project's format error), nothing else; the data copied out never exceeds
    /// the buffer's own size.
    /// </summary>
    public static OrtAdapterFile Parse(byte[] bytes, string source)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        if (bytes.Length < 8)
            throw new InvalidDataException($"{source} is not an ONNX Runtime adapter: {bytes.Length} bytes, too short for a FlatBuffer.");
        var identifier = Encoding.ASCII.GetString(bytes, 4, 4);
        if (identifier != FileIdentifier)
            throw new InvalidDataException($"{source} is not an ONNX Runtime adapter: its file identifier is \"{Printable(identifier)}\", expected \"{FileIdentifier}\".");
        var view = new FlatBufferView(bytes, source);
        var root = view.Root();
        var format = view.Int(root, AdapterFormatVersion, 0, "the adapter table");
        if (format != FormatVersion)
            throw new InvalidDataException($"{source} has adapter format version {format}; this reader knows version {FormatVersion}.");
        var (start, count) = view.Vector(root, AdapterParameters, sizeof(int), "the parameter list");
        var parameters = new List<OrtAdapterParameter>(count);
        var names = new HashSet<string>(StringComparer.Ordinal);
        long copied = 0; // FlatBuffers may share vectors between tables: cap what all parameters copy out at the file's size
        for (var i = 0; i < count; i++)
        {
            var parameter = ReadParameter(view, view.Follow(start + (long)i * sizeof(int), $"parameter {i}"), i, source);
            copied += parameter.RawData.Length + parameter.Dims.Length * sizeof(long) + parameter.Name.Length;
            if (copied > bytes.Length)
                throw view.Damaged($"its parameters share data: they hold more than the file's {bytes.Length:N0} bytes");
            if (!names.Add(parameter.Name))
                throw view.Damaged($"parameter {parameter.Name} appears twice");
            parameters.Add(parameter);
        }
        return new OrtAdapterFile(parameters, view.Int(root, AdapterAdapterVersion, 0, "the adapter table"), view.Int(root, AdapterModelVersion, 0, "the adapter table"));
    }

    private static Offset<Table> WriteParameter(FlatBufferBuilder builder, OrtAdapterParameter parameter)
    {
        var expectedBytes = parameter.ElementCount * ElementSize(parameter.DataType, parameter.Name);
        if (parameter.RawData.Length != expectedBytes)
            throw new ArgumentException($"adapter parameter {parameter.Name} {parameter.ShapeText} ({parameter.DataType}) needs {expectedBytes} bytes, has {parameter.RawData.Length}.", nameof(parameter));
        // force_align: 8 on raw_data: ONNX Runtime maps tensors straight onto the file's bytes.
        builder.StartVector(1, parameter.RawData.Length, 8);
        builder.Add(parameter.RawData);
        var raw = builder.EndVector();

        builder.StartVector(sizeof(long), parameter.Dims.Length, sizeof(long));
        for (var i = parameter.Dims.Length - 1; i >= 0; i--)
            builder.AddLong(parameter.Dims[i]);
        var dims = builder.EndVector();
        var name = builder.CreateString(parameter.Name);

        builder.StartTable(4);
        builder.AddOffset(3, raw.Value, 0);
        builder.AddOffset(1, dims.Value, 0);
        builder.AddOffset(0, name.Value, 0);
        builder.AddInt(2, (int)parameter.DataType, 0);
        return new Offset<Table>(builder.EndTable());
    }

    private static OrtAdapterParameter ReadParameter(FlatBufferView view, long table, int index, string source)
    {
        var what = $"parameter {index}";
        var (nameStart, nameLength) = view.Vector(table, ParameterName, 1, $"the name of {what}");
        if (nameLength == 0)
            throw view.Damaged($"{what} has no name");
        string name;
        try
        {
            name = StrictUtf8.GetString(view.Bytes(nameStart, nameLength));
        }
        catch (DecoderFallbackException)
        {
            throw view.Damaged($"the name of {what} is not UTF-8");
        }
        what = $"parameter {name}";
        var (dimsStart, rank) = view.Vector(table, ParameterDims, sizeof(long), $"the dims of {what}");
        var dims = new long[rank];
        long elements = 1;
        for (var d = 0; d < rank; d++)
        {
            dims[d] = view.I64(dimsStart + (long)d * sizeof(long), $"the dims of {what}");
            if (dims[d] < 0)
                throw view.Damaged($"{what} has dimension {d} = {dims[d]}");
            // Beyond the file's size the data cannot be there; stopping here also keeps the product from overflowing.
            elements = dims[d] == 0 ? 0 : elements > view.Length / dims[d] ? view.Length + 1L : elements * dims[d];
        }
        var type = (OrtAdapterDataType)view.Int(table, ParameterDataType, 0, what);
        var size = TrySize(type) ?? throw view.Damaged($"{what} has data type {(int)type} ({type}), which has no fixed element size");
        var (rawStart, rawLength) = view.Vector(table, ParameterRawData, 1, $"the data of {what}");
        var shape = "[" + string.Join(", ", dims) + "]";
        if (elements > view.Length || elements * size != rawLength)
            throw new InvalidDataException($"{source}: parameter {name} {shape} ({type}) has {rawLength:N0} bytes of data, expected {(elements > view.Length ? "more than the file holds" : (elements * size).ToString("N0"))}.");
        return new OrtAdapterParameter(name, dims, type, view.Bytes(rawStart, rawLength).ToArray());
    }

    private static int ElementSize(OrtAdapterDataType type, string name) =>
        TrySize(type) ?? throw new ArgumentException($"adapter parameter {name} has data type {type}, which has no fixed element size.", nameof(type));

    private static int? TrySize(OrtAdapterDataType type) => type switch
    {
        OrtAdapterDataType.UInt8 or OrtAdapterDataType.Int8 or OrtAdapterDataType.Bool => 1,
        OrtAdapterDataType.UInt16 or OrtAdapterDataType.Int16 or OrtAdapterDataType.Float16 or OrtAdapterDataType.BFloat16 => 2,
        OrtAdapterDataType.Float or OrtAdapterDataType.Int32 or OrtAdapterDataType.UInt32 => 4,
        OrtAdapterDataType.Int64 or OrtAdapterDataType.Double or OrtAdapterDataType.UInt64 or OrtAdapterDataType.Complex64 => 8,
        OrtAdapterDataType.Complex128 => 16,
        _ => null,
    };

    private static string Printable(string text) => new([.. text.Select(c => char.IsControl(c) ? '?' : c)]);
}
