namespace PeftOnnx.Runtime.Tokenization;

/// <summary>
/// One model input row: [CLS], word-pieces, [SEP]. Offsets are UTF-16 ranges into <see cref="Text"/>
/// (slice with <c>Text[Start..End]</c>); [CLS] and [SEP] have (0, 0) as in Hugging Face.
/// </summary>
public sealed class TokenizedText
{
    private (int Start, int End)[]? _codePointOffsets;

    internal TokenizedText(string text, int[] ids, (int Start, int End)[] offsets, int firstPiece, int totalPieces)
    {
        Text = text;
        Ids = ids;
        Offsets = offsets;
        FirstPiece = firstPiece;
        TotalPieces = totalPieces;
    }

    /// <summary>The source text the offsets point into.</summary>
    public string Text { get; }

    /// <summary>Token ids, [CLS] first and [SEP] last.</summary>
    public int[] Ids { get; }

    /// <summary>Number of tokens, specials included.</summary>
    public int Length => Ids.Length;

    /// <summary>UTF-16 [Start, End) of each token in <see cref="Text"/>; (0, 0) for [CLS] and [SEP].</summary>
    public (int Start, int End)[] Offsets { get; }

    /// <summary>Index, among all word-pieces of the text, of this row's first word-piece (0 unless a later window).</summary>
    public int FirstPiece { get; }

    /// <summary>Word-pieces in this row (specials excluded).</summary>
    public int PieceCount => Ids.Length - 2;

    /// <summary>Word-pieces of the whole text when known; when Encode stopped at its limit, at least one more than it kept.</summary>
    public int TotalPieces { get; }

    /// <summary>True when word-pieces of the text were cut off after this row.</summary>
    public bool IsTruncated => FirstPiece + PieceCount < TotalPieces;

    /// <summary>The same offsets counted in Unicode code points (what Python and Hugging Face report).</summary>
    public (int Start, int End)[] CodePointOffsets => _codePointOffsets ??= ToCodePointOffsets();

    /// <summary>Source text of token <paramref name="index"/> (empty for [CLS] and [SEP]).</summary>
    public ReadOnlySpan<char> SourceOf(int index) => Text.AsSpan(Offsets[index].Start, Offsets[index].End - Offsets[index].Start);

    private (int Start, int End)[] ToCodePointOffsets()
    {
        // codePointAt[i]: code points before UTF-16 index i. Computed only when the text has surrogates.
        if (!Text.AsSpan().ContainsAnyInRange('\uD800', '\uDFFF'))
            return Offsets;
        var codePointAt = new int[Text.Length + 1];
        for (int i = 0, cp = 0; i < Text.Length; i++)
        {
            codePointAt[i] = cp;
            if (!char.IsLowSurrogate(Text[i]) || i == 0 || !char.IsHighSurrogate(Text[i - 1]))
                cp++;
            codePointAt[i + 1] = cp;
        }
        var result = new (int Start, int End)[Offsets.Length];
        for (int t = 0; t < Offsets.Length; t++)
            result[t] = (codePointAt[Offsets[t].Start], codePointAt[Offsets[t].End]);
        return result;
    }
}
