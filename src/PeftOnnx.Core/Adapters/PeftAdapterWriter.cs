using PeftOnnx.Core.IO;
using PeftOnnx.Core.SafeTensors;

namespace PeftOnnx.Core.Adapters;

/// <summary>
/// Writes an adapter folder PEFT can load (<c>PeftModel.from_pretrained</c>): adapter_config.json and
/// adapter_model.safetensors with metadata {"format": "pt"}. Used by the trainer and by test fixtures.
/// </summary>
public static class PeftAdapterWriter
{
    /// <summary>Writes through <see cref="AtomicFolder"/>, so a failure leaves nothing.</summary>
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
        AtomicFolder.Write(directory, overwrite, "overwrite: true", tmp => WriteInto(tmp, config, tensors));
    }

    /// <summary>Writes the two files into an existing folder, e.g. the temporary folder of a larger <see cref="AtomicFolder"/> write.</summary>
    public static void WriteInto(string folder, PeftAdapterConfig config, IEnumerable<SafeTensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        config.Save(Path.Combine(folder, PeftAdapterConfig.FileName));
        SafeTensorWriter.Write(Path.Combine(folder, PeftAdapter.WeightsFileName), tensors, new Dictionary<string, string> { ["format"] = "pt" });
    }
}
