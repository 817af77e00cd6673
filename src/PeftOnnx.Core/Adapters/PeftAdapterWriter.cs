using PeftOnnx.Core.SafeTensors;

namespace PeftOnnx.Core.Adapters;

/// <summary>
/// Writes an adapter folder PEFT can load (<c>PeftModel.from_pretrained</c>): adapter_config.json and
/// adapter_model.safetensors with metadata {"format": "pt"}. Used by the trainer and by test fixtures.
/// </summary>
public static class PeftAdapterWriter
{
    /// <summary>Writes into a temporary folder next to <paramref name="directory"/> and renames it, so a failure leaves nothing.</summary>
    /// <param name="directory">Target folder; must not exist unless <paramref name="overwrite"/>.</param>
    /// <param name="config">Validated before anything is written.</param>
    /// <param name="tensors">Tensors with PEFT key names (see <see cref="PeftKeys"/>).</param>
    /// <param name="overwrite">Replace an existing folder.</param>
    public static void Write(string directory, PeftAdapterConfig config, IEnumerable<SafeTensor> tensors, bool overwrite = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(tensors);
        config.Validate();
        var target = Path.GetFullPath(directory);
        if (Directory.Exists(target) && !overwrite)
            throw new IOException($"{target} already exists; choose another folder or overwrite it.");

        var parent = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(parent);
        var tmp = Path.Combine(parent, $"{Path.GetFileName(target)}.tmp-{Guid.NewGuid().ToString("N")[..8]}");
        Directory.CreateDirectory(tmp);
        try
        {
            config.Save(Path.Combine(tmp, PeftAdapterConfig.FileName));
            SafeTensorWriter.Write(Path.Combine(tmp, PeftAdapter.WeightsFileName), tensors, new Dictionary<string, string> { ["format"] = "pt" });
            if (Directory.Exists(target))
                Directory.Delete(target, recursive: true);
            Directory.Move(tmp, target);
        }
        catch
        {
            Directory.Delete(tmp, recursive: true);
            throw;
        }
    }
}
