using System.Buffers.Binary;
using System.Text.Json;

namespace PeftOnnx.Core.SafeTensors;

/// <summary>Writes .safetensors files atomically (temp file, then rename), tensors in the order given.</summary>
public static class SafeTensorWriter
{
    public static void Write(string path, IEnumerable<SafeTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.ToList();
        var duplicate = list.GroupBy(t => t.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new ArgumentException($"Tensor name '{duplicate.Key}' appears {duplicate.Count()} times.");

        using var header = new MemoryStream();
        using (var json = new Utf8JsonWriter(header))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata) json.WriteString(k, v);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var t in list)
            {
                var expected = t.Shape.Aggregate(1L, (n, d) => n * d) * t.DType.ElementSize();
                if (expected != t.Data.Length)
                    throw new ArgumentException($"Tensor '{t.Name}' ({t.DType.HeaderName()} [{string.Join(", ", t.Shape)}]) needs {expected} bytes, got {t.Data.Length}.");
                json.WriteStartObject(t.Name);
                json.WriteString("dtype", t.DType.HeaderName());
                json.WriteStartArray("shape");
                foreach (var d in t.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + t.Data.Length);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += t.Data.Length;
            }
            json.WriteEndObject();
        }
        // Pad the header with spaces to an 8-byte boundary, as the reference writer does, so data stays aligned.
        while (header.Length % 8 != 0) header.WriteByte((byte)' ');

        var tmp = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var file = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write))
            {
                Span<byte> prefix = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
                file.Write(prefix);
                header.Position = 0;
                header.CopyTo(file);
                foreach (var t in list) file.Write(t.Data);
                file.Flush(flushToDisk: true);
            }
            File.Move(tmp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }
}
