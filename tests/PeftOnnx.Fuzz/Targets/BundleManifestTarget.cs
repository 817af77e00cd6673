using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.Json;

namespace PeftOnnx.Fuzz.Targets;

/// <summary>A bundle.json read as the runtime reads it (<see cref="PeftJson.Load{T}"/> of <see cref="BundleManifest"/>).</summary>
public sealed class BundleManifestTarget : FuzzTarget
{
    private readonly ScratchFolder _scratch = new("bundle");

    public override string Name => "bundle";

    public override string Description => "a bundle.json";

    public override void Run(ReadOnlySpan<byte> input) =>
        PeftJson.Load<BundleManifest>(_scratch.Write(BundleManifest.FileName, input));

    /// <summary>PeftJson.Load reports JSON that does not fit the manifest as InvalidDataException.</summary>
    public override bool IsOwnFormatError(Exception exception) => exception is InvalidDataException;
}
