using System.Text;

namespace PeftOnnx.Training.Data;

/// <summary>RFC 4180 records: comma-separated, fields optionally in double quotes ("" escapes a quote, quoted fields may span lines).</summary>
internal static class CsvRecords
{
    /// <summary>Yields each record with the 1-based line on which it starts.</summary>
    public static IEnumerable<(int Line, List<string> Fields)> Read(TextReader reader)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        var line = 1;
        var start = 1;
        var quoted = false;
        var any = false;
        int c;
        while ((c = reader.Read()) != -1)
        {
            any = true;
            var ch = (char)c;
            if (quoted)
            {
                if (ch == '"')
                {
                    if (reader.Peek() == '"')
                    {
                        field.Append('"');
                        reader.Read();
                    }
                    else
                    {
                        quoted = false;
                    }
                }
                else
                {
                    if (ch == '\n')
                        line++;
                    field.Append(ch);
                }
                continue;
            }
            switch (ch)
            {
                case '"' when field.Length == 0:
                    quoted = true;
                    break;
                case ',':
                    fields.Add(field.ToString());
                    field.Clear();
                    break;
                case '\r':
                    break;
                case '\n':
                    fields.Add(field.ToString());
                    field.Clear();
                    yield return (start, fields);
                    fields = [];
                    any = false;
                    line++;
                    start = line;
                    break;
                default:
                    field.Append(ch);
                    break;
            }
        }
        if (quoted)
            throw new DatasetFormatException($"line {start}: a quoted field is not closed before the end of the file.");
        if (any)
        {
            fields.Add(field.ToString());
            yield return (start, fields);
        }
    }
}
