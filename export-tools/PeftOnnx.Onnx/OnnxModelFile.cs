using Google.Protobuf;
using Onnx;
using PeftOnnx.Onnx.Graph;

namespace PeftOnnx.Onnx;

/// <summary>Reads and writes ONNX model files (<see cref="ModelProto"/>), external data included.</summary>
public static class OnnxModelFile
{
    /// <summary>A protobuf message cannot exceed 2 GiB; leave room for the graph around the tensors.</summary>
    private const long MaxInlineBytes = int.MaxValue - (64L << 20);

    /// <summary>
    /// Loads a model and the bytes of its external tensors (so every tensor has raw_data afterwards).
    /// Throws <see cref="InvalidDataException"/> naming the file and the problem for empty, truncated or non-ONNX files.
    /// </summary>
    public static ModelProto Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"ONNX model {path} does not exist.", path);
        var length = new FileInfo(path).Length;
        if (length == 0)
            throw new InvalidDataException($"{path} is not a valid ONNX model: the file is empty (0 bytes).");
        ModelProto model;
        try
        {
            using var stream = File.OpenRead(path);
            model = ModelProto.Parser.ParseFrom(stream);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException(
                $"{path} is not a valid ONNX model: its {length} bytes are not a well-formed ModelProto ({e.Message}); the file is truncated or not ONNX.", e);
        }
        OnnxModelCheck.Validate(model, path);
        ExternalData.Load(model, path);
        return model;
    }

    /// <summary>
    /// Writes <paramref name="model"/> atomically (temp files, then rename). Tensors move to a side file when
    /// <paramref name="options"/> ask for it or the model would exceed protobuf's 2 GiB limit; <paramref name="model"/> is only read.
    /// </summary>
    public static void Save(ModelProto model, string path, OnnxSaveOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(path);
        options ??= OnnxSaveOptions.Default;
        var external = options.ExternalData switch
        {
            ExternalDataMode.Always => true,
            ExternalDataMode.Never => false,
            _ => EstimatedSize(model) > MaxInlineBytes,
        };
        if (!external && EstimatedSize(model) > MaxInlineBytes)
            throw new InvalidOperationException($"Cannot save {path} without external data: its tensors take {EstimatedSize(model)} bytes, over protobuf's 2 GiB limit. Use ExternalDataMode.Auto or Always.");

        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(folder);
        var tmp = path + ".tmp";
        if (!external)
        {
            WriteModel(model, tmp);
            File.Move(tmp, path, overwrite: true);
            return;
        }

        var location = options.ExternalDataFileName ?? Path.GetFileName(path) + ".data";
        var dataPath = Path.Combine(folder, location);
        var dataTmp = dataPath + ".tmp";
        // A clone shares the (immutable) tensor bytes, so it costs little; the caller's model is never touched.
        var copy = model.Clone();
        using (var data = File.Create(dataTmp))
            ExternalData.MoveOut(copy, data, location, options.ExternalDataThreshold);
        WriteModel(copy, tmp);
        File.Move(dataTmp, dataPath, overwrite: true);
        File.Move(tmp, path, overwrite: true);
    }

    private static void WriteModel(ModelProto model, string path)
    {
        using var stream = File.Create(path);
        model.WriteTo(stream);
    }

    private static long EstimatedSize(ModelProto model)
    {
        long size = 0;
        foreach (var tensor in OnnxTensors.All(model))
            size += tensor.CalculateSize();
        return size;
    }
}
