using System.Text;
using Google.FlatBuffers;

namespace PeftOnnx.Core.OrtAdapters;

/// <summary>
/// ONNX Runtime's <c>.onnx_adapter</c> file (onnxruntime/lora/adapter_format/adapter_schema.fbs, format version 1),
/// read and written with a hand-written FlatBuffers table layout over Google.FlatBuffers' builder and Table accessors
/// (no flatc step: the schema has two tables):
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

    public static OrtAdapterFile Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"adapter file {path} does not exist.", path);
        return Parse(File.ReadAllBytes(path), path);
    }

    /// <summary>Parses and checks a file's bytes; <paramref name="source"/> names it in errors.</summary>
    public static OrtAdapterFile Parse(byte[] bytes, string source)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        if (bytes.Length < 8)
            throw new InvalidDataException($"{source} is not an ONNX Runtime adapter: {bytes.Length} bytes, too short for a FlatBuffer.");
        var identifier = Encoding.ASCII.GetString(bytes, 4, 4);
        if (identifier != FileIdentifier)
            throw new InvalidDataException($"{source} is not an ONNX Runtime adapter: its file identifier is \"{Printable(identifier)}\", expected \"{FileIdentifier}\".");
        try
        {
            var buffer = new ByteBuffer(bytes);
            var root = new Table(buffer.GetInt(0), buffer);
            var format = Int(root, AdapterFormatVersion);
            if (format != FormatVersion)
                throw new InvalidDataException($"{source} has adapter format version {format}; this reader knows version {FormatVersion}.");
            var parameters = new List<OrtAdapterParameter>();
            var vector = root.__offset(AdapterParameters);
            if (vector != 0)
            {
                var start = root.__vector(vector);
                var count = root.__vector_len(vector);
                for (var i = 0; i < count; i++)
                {
                    var position = root.__indirect(start + i * sizeof(int));
                    parameters.Add(ReadParameter(new Table(position, buffer), source));
                }
            }
            return new OrtAdapterFile(parameters, Int(root, AdapterAdapterVersion), Int(root, AdapterModelVersion));
        }
        catch (Exception e) when (e is ArgumentOutOfRangeException or IndexOutOfRangeException or ArgumentException)
        {
            throw new InvalidDataException($"{source} is a damaged ONNX Runtime adapter file ({e.Message}).", e);
        }
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

    private static OrtAdapterParameter ReadParameter(Table table, string source)
    {
        var nameOffset = table.__offset(ParameterName);
        if (nameOffset == 0)
            throw new InvalidDataException($"{source}: a parameter has no name.");
        var name = table.__string(table.bb_pos + nameOffset);
        var dims = new List<long>();
        var dimsOffset = table.__offset(ParameterDims);
        if (dimsOffset != 0)
        {
            var start = table.__vector(dimsOffset);
            for (var i = 0; i < table.__vector_len(dimsOffset); i++)
                dims.Add(table.bb.GetLong(start + i * sizeof(long)));
        }
        var type = (OrtAdapterDataType)Int(table, ParameterDataType);
        var rawOffset = table.__offset(ParameterRawData);
        var raw = rawOffset == 0 ? [] : table.bb.ToArray<byte>(table.__vector(rawOffset), table.__vector_len(rawOffset));
        var parameter = new OrtAdapterParameter(name, [.. dims], type, raw);
        var expected = parameter.ElementCount * ElementSize(type, name);
        if (raw.Length != expected)
            throw new InvalidDataException($"{source}: parameter {name} {parameter.ShapeText} ({type}) has {raw.Length} bytes of data, expected {expected}.");
        return parameter;
    }

    private static int Int(Table table, int slot)
    {
        var offset = table.__offset(slot);
        return offset == 0 ? 0 : table.bb.GetInt(table.bb_pos + offset);
    }

    private static int ElementSize(OrtAdapterDataType type, string name) => type switch
    {
        OrtAdapterDataType.UInt8 or OrtAdapterDataType.Int8 or OrtAdapterDataType.Bool => 1,
        OrtAdapterDataType.UInt16 or OrtAdapterDataType.Int16 or OrtAdapterDataType.Float16 or OrtAdapterDataType.BFloat16 => 2,
        OrtAdapterDataType.Float or OrtAdapterDataType.Int32 or OrtAdapterDataType.UInt32 => 4,
        OrtAdapterDataType.Int64 or OrtAdapterDataType.Double or OrtAdapterDataType.UInt64 or OrtAdapterDataType.Complex64 => 8,
        OrtAdapterDataType.Complex128 => 16,
        _ => throw new InvalidDataException($"adapter parameter {name} has data type {type}, which has no fixed element size."),
    };

    private static string Printable(string text) => new([.. text.Select(c => char.IsControl(c) ? '?' : c)]);
}
