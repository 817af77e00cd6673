using System.Buffers.Binary;
using System.Text;

namespace PeftOnnx.Fuzz;

/// <summary>
/// afl's "havoc" stage in miniature: 1 to 8 stacked edits of one input (bit flips, interesting values, arithmetic,
/// block deletes and copies, format tokens, splices with another input). Deterministic for a given seed.
/// </summary>
public sealed class Mutator(int seed, int maxLength = 1 << 16)
{
    // Boundary values that break size and offset arithmetic, written as bytes and as JSON numbers.
    private static readonly long[] Interesting =
        [0, 1, -1, 7, 8, 127, 128, 255, 256, 32767, 65535, 65536, int.MaxValue, int.MinValue, uint.MaxValue, 1L << 32, 1L << 40, long.MaxValue, long.MinValue];

    private static readonly byte[][] Tokens =
    [
        .. new[]
        {
            "{", "}", "[", "]", ":", ",", "\"", "null", "true", "false", "0", "-1", "1e308", "-0", "1.5", "\"\"", "{}", "[]",
            "9223372036854775807", "18446744073709551616", "1099511627776", "\\u0000", "\\ud800", "\n", "\r\n", "<", ">", "</", "-->",
            "<!--", "<script>", "</script>", "<p>", "&amp;", "&#xFFFFFFFF;", "&#0;", "\"\"\"", "\xC3\xA9", "\xF0\x9F\x98\x80", "\xFF", "TORT",
            "\"text\"", "\"texts\"", "\"adapter\"", "\"peft_type\"", "\"LORA\"", "\"target_modules\"", "\"r\"", "\"dtype\"", "\"shape\"",
            "\"data_offsets\"", "\"__metadata__\"", "\"F32\"", "\"BF16\"", "\"model\"", "\"tokenizer\"", "\"vocab\"", "\"labels\"", "\"../\"",
        }.Select(t => Encoding.Latin1.GetBytes(t)),
    ];

    private readonly Random _random = new(seed);

    public byte[] Mutate(byte[] input, IReadOnlyList<byte[]> corpus)
    {
        var data = new List<byte>(input);
        var edits = 1 << _random.Next(4);
        for (var i = 0; i < edits; i++)
            Edit(data, corpus);
        if (data.Count > maxLength)
            data.RemoveRange(maxLength, data.Count - maxLength);
        return [.. data];
    }

    private void Edit(List<byte> data, IReadOnlyList<byte[]> corpus)
    {
        switch (_random.Next(data.Count == 0 ? 1 : 11))
        {
            case 0: // insert a token (the only edit an empty input allows)
                data.InsertRange(_random.Next(data.Count + 1), Tokens[_random.Next(Tokens.Length)]);
                break;
            case 1:
                data[Offset(data)] ^= (byte)(1 << _random.Next(8));
                break;
            case 2:
                data[Offset(data)] = (byte)_random.Next(256);
                break;
            case 3: // an interesting value as 1, 2, 4 or 8 little-endian bytes
                WriteInteresting(data);
                break;
            case 4:
                data[Offset(data)] += (byte)(_random.Next(1, 36) * (_random.Next(2) == 0 ? 1 : -1));
                break;
            case 5:
            {
                var start = Offset(data);
                data.RemoveRange(start, _random.Next(1, Math.Min(data.Count - start, 64) + 1));
                break;
            }
            case 6:
            {
                var start = Offset(data);
                var block = data.GetRange(start, _random.Next(1, Math.Min(data.Count - start, 64) + 1));
                data.InsertRange(_random.Next(data.Count + 1), block);
                break;
            }
            case 7: // overwrite with a token
            {
                var token = Tokens[_random.Next(Tokens.Length)];
                var start = Offset(data);
                for (var i = 0; i < token.Length && start + i < data.Count; i++) data[start + i] = token[i];
                break;
            }
            case 8: // an interesting value as decimal text (JSON numbers)
                data.InsertRange(_random.Next(data.Count + 1), Encoding.ASCII.GetBytes(Interesting[_random.Next(Interesting.Length)].ToString(System.Globalization.CultureInfo.InvariantCulture)));
                break;
            case 9: // splice: our head, another input's tail
            {
                var other = corpus[_random.Next(corpus.Count)];
                if (other.Length == 0) break;
                var cut = Offset(data);
                var from = _random.Next(other.Length);
                data.RemoveRange(cut, data.Count - cut);
                data.AddRange(other.AsSpan(from).ToArray());
                break;
            }
            default:
                data.InsertRange(_random.Next(data.Count + 1), Tokens[_random.Next(Tokens.Length)]);
                break;
        }
    }

    private void WriteInteresting(List<byte> data)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, Interesting[_random.Next(Interesting.Length)]);
        var width = 1 << _random.Next(4);
        var start = Offset(data);
        for (var i = 0; i < width && start + i < data.Count; i++) data[start + i] = bytes[i];
    }

    private int Offset(List<byte> data) => _random.Next(data.Count);
}
