using System.Globalization;

namespace PeftOnnx.Core.Models;

/// <summary>
/// Which base model something was made for: the manifest name, the Hugging Face Hub id (PEFT's
/// base_model_name_or_path) and the sha256 of its model.onnx. Adapters are checked against it before they are merged,
/// converted or served, because an adapter on another base of the same shape runs and silently scores wrong.
/// </summary>
public sealed record BaseModelIdentity(string Name, string? HubId, string? Sha256)
{
    public static BaseModelIdentity Of(ModelManifest manifest, string sha256)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        return new BaseModelIdentity(manifest.Name, manifest.HubId, sha256);
    }

    /// <summary>
    /// The model_version an <c>.onnx_adapter</c> carries for this base: the first 31 bits of the sha256 (never 0, which
    /// means "not recorded"), so a side bundle can refuse an adapter converted for another base.
    /// </summary>
    public int Fingerprint => FingerprintOf(Sha256);

    public static int FingerprintOf(string? sha256)
    {
        if (sha256 is null || sha256.Length < 8 || !int.TryParse(sha256[..8], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var head))
            return 0;
        return Math.Max(head & int.MaxValue, 1);
    }

    /// <summary>
    /// Whether a base_model_name_or_path names this base: the Hub id or the manifest name, or a local folder whose
    /// name is the Hub id's last part or the manifest name (PEFT records the path the base was loaded from).
    /// </summary>
    public bool IsNamedBy(string nameOrPath)
    {
        ArgumentNullException.ThrowIfNull(nameOrPath);
        var value = nameOrPath.Trim().TrimEnd('/', '\\');
        if (Same(value, HubId) || Same(value, Name))
            return true;
        var last = value[(value.LastIndexOfAny(['/', '\\']) + 1)..];
        return Same(last, Name) || (HubId is not null && Same(last, HubId[(HubId.LastIndexOf('/') + 1)..]));
    }

    public override string ToString() =>
        Name + (HubId is null ? "" : $" ({HubId})") + (Sha256 is null ? "" : $", model.onnx sha256 {Sha256[..Math.Min(12, Sha256.Length)]}…");

    private static bool Same(string a, string? b) => b is not null && string.Equals(a, b, StringComparison.OrdinalIgnoreCase);
}
