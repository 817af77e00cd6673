using Google.Protobuf;
using Onnx;
using PeftOnnx.Onnx.Graph;

namespace PeftOnnx.Onnx;

/// <summary>
/// ONNX external data: a tensor with data_location EXTERNAL keeps its bytes in a side file named by its
/// external_data entries (location relative to the model's folder, offset, length), as onnx.external_data_helper writes.
/// </summary>
internal static class ExternalData
{
    /// <summary>Side-file offsets are page aligned so ONNX Runtime can memory-map them.</summary>
    private const int Alignment = 4096;

    /// <summary>Reads every external tensor's bytes into raw_data, making the model self-contained in memory.</summary>
    public static void Load(ModelProto model, string modelPath)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(modelPath))!;
        var files = new Dictionary<string, FileStream>(StringComparer.Ordinal);
        try
        {
            foreach (var tensor in OnnxTensors.All(model))
            {
                if (tensor.DataLocation != TensorProto.Types.DataLocation.External)
                    continue;
                var entries = tensor.ExternalData.ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);
                if (!entries.TryGetValue("location", out var location) || location.Length == 0)
                    throw Bad(modelPath, tensor, "has data_location EXTERNAL but no 'location' entry");
                var file = ResolveInside(folder, location, modelPath, tensor);
                if (!files.TryGetValue(file, out var stream))
                {
                    if (!File.Exists(file))
                        throw Bad(modelPath, tensor, $"keeps its data in {location}, which does not exist next to the model ({file}); copy the side file along with the model");
                    stream = File.OpenRead(file);
                    files[file] = stream;
                }
                var offset = ParseLong(entries, "offset", 0, modelPath, tensor);
                var length = ParseLong(entries, "length", stream.Length - offset, modelPath, tensor);
                if (offset < 0 || length < 0 || offset + length > stream.Length)
                    throw Bad(modelPath, tensor, $"reads bytes {offset}..{offset + length} of {location}, which has only {stream.Length} bytes; the side file is truncated or belongs to another model");
                var expected = TensorData.ElementCount(tensor.Dims) * TensorElementTypes.ByteSize(tensor.DataType);
                if (expected > 0 && expected != length)
                    throw Bad(modelPath, tensor, $"({TensorElementTypes.Name(tensor.DataType)} [{string.Join(", ", tensor.Dims)}]) needs {expected} bytes but its external_data length is {length}");
                var bytes = new byte[length];
                stream.Position = offset;
                stream.ReadExactly(bytes);
                tensor.RawData = UnsafeByteOperations.UnsafeWrap(bytes);
                tensor.ExternalData.Clear();
                tensor.ClearDataLocation();
            }
        }
        finally
        {
            foreach (var stream in files.Values)
                stream.Dispose();
        }
    }

    /// <summary>
    /// Moves raw_data of tensors of at least <paramref name="threshold"/> bytes into <paramref name="data"/> and points the
    /// tensors at <paramref name="location"/>. Changes <paramref name="model"/>: callers pass a copy.
    /// </summary>
    public static void MoveOut(ModelProto model, Stream data, string location, int threshold)
    {
        var padding = new byte[Alignment];
        foreach (var tensor in OnnxTensors.All(model))
        {
            if (!tensor.HasRawData || tensor.RawData.Length < threshold)
                continue;
            var offset = (data.Position + Alignment - 1) / Alignment * Alignment;
            data.Write(padding, 0, (int)(offset - data.Position));
            data.Write(tensor.RawData.Span);
            tensor.ClearRawData();
            tensor.DataLocation = TensorProto.Types.DataLocation.External;
            tensor.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
            tensor.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString() });
            tensor.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = (data.Position - offset).ToString() });
        }
    }

    /// <summary>A location must stay inside the model's folder: a model file must not make us read /etc/passwd.</summary>
    private static string ResolveInside(string folder, string location, string modelPath, TensorProto tensor)
    {
        var file = Path.GetFullPath(Path.Combine(folder, location));
        var root = folder.EndsWith(Path.DirectorySeparatorChar) ? folder : folder + Path.DirectorySeparatorChar;
        if (Path.IsPathRooted(location) || !file.StartsWith(root, StringComparison.Ordinal))
            throw Bad(modelPath, tensor, $"has external data location '{location}' outside the model's folder {folder}; locations must be relative paths inside it");
        return file;
    }

    private static long ParseLong(Dictionary<string, string> entries, string key, long fallback, string modelPath, TensorProto tensor)
    {
        if (!entries.TryGetValue(key, out var text))
            return fallback;
        return long.TryParse(text, out var value)
            ? value
            : throw Bad(modelPath, tensor, $"has external_data {key} '{text}', which is not an integer");
    }

    private static InvalidDataException Bad(string modelPath, TensorProto tensor, string what) =>
        new($"{modelPath}: tensor '{tensor.Name}' {what}.");
}
