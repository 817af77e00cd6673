using System.Buffers.Binary;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.Models;
using PeftOnnx.Runtime.Inference;

namespace PeftOnnx.Fuzz.Targets;

/// <summary>
/// A model folder as the runtime checks and reads it before ONNX Runtime sees the model: <see cref="ModelFolder.Open"/>
/// (manifest, the files it names) and <see cref="ModelFolder.LoadTokenizer"/> (vocab.txt with the manifest's settings).
/// Input: one byte (even: bundle.json, odd: model.json), a little-endian uint16 length and the manifest, a uint16 length
/// and vocab.txt, then the bytes of model.onnx.
/// </summary>
public sealed class ModelFolderTarget : FuzzTarget
{
    private readonly ScratchFolder _scratch = new("model-folder");

    public override string Name => "model-folder";

    public override string Description =>
        "a model folder: 1 byte (even: bundle.json, odd: model.json), uint16 LE length + manifest, uint16 LE length + vocab.txt, model.onnx bytes";

    public override void Run(ReadOnlySpan<byte> input)
    {
        if (input.Length < 1)
            return;
        var (manifestName, otherName) = input[0] % 2 == 0
            ? (BundleManifest.FileName, ModelManifest.FileName)
            : (ModelManifest.FileName, BundleManifest.FileName);
        var rest = input[1..];
        var manifest = Part(ref rest);
        var vocab = Part(ref rest);
        File.Delete(Path.Combine(_scratch.Path, otherName)); // a bundle.json left by the last input would win over model.json
        _scratch.Write(manifestName, manifest);
        _scratch.Write("vocab.txt", vocab);
        _scratch.Write("model.onnx", rest);
        ModelFolder.Open(_scratch.Path).LoadTokenizer();
    }

    /// <summary>
    /// A manifest or vocabulary that does not parse or fit (InvalidDataException), a file the manifest names that the
    /// folder lacks (FileNotFoundException), a tokenizer type other than bert-wordpiece (NotSupportedException).
    /// </summary>
    public override bool IsOwnFormatError(Exception exception) => exception is InvalidDataException or FileNotFoundException or NotSupportedException;

    /// <summary>Builds an input from its parts (the inverse of <see cref="Run"/>'s split).</summary>
    public static byte[] Input(byte kind, byte[] manifest, byte[] vocab, byte[] model)
    {
        using var input = new MemoryStream();
        input.WriteByte(kind);
        Span<byte> length = stackalloc byte[2];
        foreach (var part in new[] { manifest, vocab })
        {
            BinaryPrimitives.WriteUInt16LittleEndian(length, checked((ushort)part.Length));
            input.Write(length);
            input.Write(part);
        }
        input.Write(model);
        return input.ToArray();
    }

    /// <summary>Takes a uint16-length-prefixed part off the front of <paramref name="rest"/> (shorter if the input ends).</summary>
    private static ReadOnlySpan<byte> Part(ref ReadOnlySpan<byte> rest)
    {
        if (rest.Length < 2)
        {
            var all = rest;
            rest = [];
            return all;
        }
        var length = Math.Min(BinaryPrimitives.ReadUInt16LittleEndian(rest), rest.Length - 2);
        var part = rest.Slice(2, length);
        rest = rest[(2 + length)..];
        return part;
    }
}
