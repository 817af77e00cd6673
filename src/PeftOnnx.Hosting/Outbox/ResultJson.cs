using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using PeftOnnx.Core.Json;

namespace PeftOnnx.Hosting.Outbox;

/// <summary>Serialisation of result records: the project's snake_case JSON, one record per line.</summary>
internal static class ResultJson
{
    public static JsonSerializerOptions Compact { get; } = new(PeftJson.Options.With(HostingJsonContext.Default)) { WriteIndented = false };

    /// <summary>A result record in <see cref="Compact"/> form.</summary>
    public static JsonTypeInfo<ResultRecord> Record { get; } = Compact.TypeInfo<ResultRecord>();

    /// <summary>
    /// Reads the key of one serialised record (a record without a hash, a skipped document, has an empty one), or null
    /// when the text is not a result record.
    /// </summary>
    public static ResultKey? TryReadKey(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            string? docId = null, hash = null;
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                return null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName && (docId is null || hash is null))
            {
                var name = reader.GetString();
                reader.Read();
                if (name is "doc_id" or "content_hash")
                {
                    // A hand-edited or corrupted line (a number, an object) is not a record; never a crash.
                    if (reader.TokenType is not (JsonTokenType.String or JsonTokenType.Null))
                        return null;
                    if (name == "doc_id")
                        docId = reader.GetString();
                    else
                        hash = reader.GetString();
                }
                else
                    reader.Skip();
            }
            return docId is null ? null : new ResultKey(docId, hash ?? "");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // InvalidOperationException: a string with a lone surrogate escape (\ud800) cannot be read as text.
            return null;
        }
    }
}
