using System.Runtime.CompilerServices;
using System.Text;

namespace PeftOnnx.Runtime.Tokenization;

/// <summary>The normalised chars of the word being built, with the source range of each; reused across words.</summary>
internal sealed class WordBuffer
{
    private char[] _chars = new char[64];
    private int[] _starts = new int[64];
    private int[] _ends = new int[64];
    private int _length;
    private int _codePoints;

    public void Clear()
    {
        _length = 0;
        _codePoints = 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Append(char c, int sourceStart, int sourceEnd, bool isCodePointStart)
    {
        if (_length == _chars.Length)
            Grow();
        _chars[_length] = c;
        _starts[_length] = sourceStart;
        _ends[_length] = sourceEnd;
        _length++;
        if (isCodePointStart)
            _codePoints++;
    }

    public void AppendCodePoint(int codePoint, int sourceStart, int sourceEnd)
    {
        if (codePoint < 0x10000)
        {
            Append((char)codePoint, sourceStart, sourceEnd, isCodePointStart: true);
            return;
        }
        var rune = new Rune(codePoint);
        Span<char> pair = stackalloc char[2];
        rune.EncodeToUtf16(pair);
        Append(pair[0], sourceStart, sourceEnd, isCodePointStart: true);
        Append(pair[1], sourceStart, sourceEnd, isCodePointStart: false);
    }

    /// <summary>Hands a non-empty word to the sink and starts a new one; returns the sink's go-on answer.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Flush(IWordSink sink)
    {
        if (_length == 0)
            return true;
        bool goOn = sink.Accept(_chars.AsSpan(0, _length), _starts.AsSpan(0, _length), _ends.AsSpan(0, _length), _codePoints);
        _length = 0;
        _codePoints = 0;
        return goOn;
    }

    private void Grow()
    {
        int size = _chars.Length * 2;
        Array.Resize(ref _chars, size);
        Array.Resize(ref _starts, size);
        Array.Resize(ref _ends, size);
    }
}
