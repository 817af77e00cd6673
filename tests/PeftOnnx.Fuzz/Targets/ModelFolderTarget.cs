using System.Buffers.Binary;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.Models;
using PeftOnnx.Runtime.Inference;

namespace PeftOnnx.Fuzz.Targets;

/// <summary>
/// A model folder as the runtime checks it before ONNX Runtime sees the model (<see cref="ModelFolder.Open"/>). Input:
/// one byte (even: bundle.json, odd: model.json), a little-endian uint16 manifest length, the manifest, then the bytes of
/// model.onnx; vocab.txt is a fixed two-line vocabulary.
/// </summary>
public sealed class ModelFolderTarget : FuzzTarget
{
    private static readonly byte[] Vocab = "[PAD]\n[UNK]\n"u8.ToArray();

    private readonly ScratchFolder _scratch = new("model-folder");

    public override string Name => "model-folder";

    public override string Description => "a model folder: 1 byte (even: bundle.json, odd: model.json), uint16 LE length, manifest, model.onnx bytes";

    public override void Run(ReadOnlySpan<byte> input)
    {
        if (input.Length < 3)
            return;
        var (manifestName, otherName) = input[0] % 2 == 0
            ? (BundleManifest.FileName, ModelManifest.FileName)
            : (ModelManifest.FileName, BundleManifest.FileName);
        var length = Math.Min(BinaryPrimitives.ReadUInt16LittleEndian(input[1..]), input.Length - 3);
        File.Delete(Path.Combine(_scratch.Path, otherName)); // a bundle.json left by the last input would win over model.json
        _scratch.Write(manifestName, input.Slice(3, length));
        _scratch.Write("model.onnx", input[(3 + length)..]);
        _scratch.Write("vocab.txt", Vocab);
        ModelFolder.Open(_scratch.Path);
    }

    /// <summary>A manifest that does not parse or fit (InvalidDataException), or names a file the folder lacks.</summary>
    public override bool IsOwnFormatError(Exception exception) => exception is InvalidDataException or FileNotFoundException;
}
