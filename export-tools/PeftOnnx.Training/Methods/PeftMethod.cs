using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Models;
using PeftOnnx.Training.Encoder;
using TorchSharp.Modules;

namespace PeftOnnx.Training.Methods;

/// <summary>
/// A fine-tuning method: what it adds to a <see cref="BertForSequenceClassification"/>, which parameters
/// train, and how they are written. One folder per method holds its layer and its injection; the
/// configuration is the adapter_config.json type from PeftOnnx.Core, shared with the exporter.
/// </summary>
public abstract class PeftMethod
{
    /// <summary>PEFT's task type for everything the trainer writes (BertForSequenceClassification).</summary>
    public const string TaskType = "SEQ_CLS";

    /// <summary>The CLI name (lora, dora, ia3, houlsby, pfeiffer, prompt, prefix, probe, full).</summary>
    public abstract string Name { get; }

    /// <summary>Base modules trained in full and saved whole (PEFT's modules_to_save), relative to the classification model.</summary>
    public virtual IReadOnlyList<string> ModulesToSave { get; } = ["classifier"];

    /// <summary>Adds the method's modules to <paramref name="model"/> (new parameters are trainable, the base is not touched).</summary>
    protected abstract void Inject(BertForSequenceClassification model);

    /// <summary>adapter_config.json for the trained adapter, or null for baselines that are saved as a whole model.</summary>
    public abstract PeftAdapterConfig? AdapterConfig(BertConfig config);

    /// <summary>Reads what a saved adapter folder holds besides its two files, before the method is applied (a fusion's fused adapters); most methods need nothing.</summary>
    public virtual void ReadFolder(string adapterDirectory)
    {
    }

    /// <summary>Writes what the adapter folder holds besides adapter_config.json and adapter_model.safetensors (a fusion's fused adapters) into <paramref name="folder"/>.</summary>
    public virtual void WriteFolder(string folder)
    {
    }

    /// <summary>Throws when what the method builds on (a fusion's or a stack's frozen adapters) was made for another base than <paramref name="target"/>; most methods build on nothing.</summary>
    public virtual void RequireBase(BaseModelIdentity target)
    {
    }

    /// <summary>Freezes the base, injects the method, and unfreezes <see cref="ModulesToSave"/>.</summary>
    public void Apply(BertForSequenceClassification model)
    {
        foreach (var p in model.parameters())
            p.requires_grad = false;
        Inject(model);
        foreach (var (name, p) in model.named_parameters())
        {
            if (ModulesToSave.Any(m => name.StartsWith(m + ".", StringComparison.Ordinal)))
                p.requires_grad = true;
        }
    }

    /// <summary>The key PEFT uses in adapter_model.safetensors for a parameter of the classification model.</summary>
    public virtual string AdapterKey(string parameterName) => PeftKeys.ModelRoot + parameterName;

    /// <summary>The parameter name for a key of adapter_model.safetensors, or null when the key is not this method's.</summary>
    public virtual string? ParameterName(string adapterKey) =>
        adapterKey.StartsWith(PeftKeys.ModelRoot, StringComparison.Ordinal) ? adapterKey[PeftKeys.ModelRoot.Length..] : null;

    /// <summary>
    /// Linear layers of the encoder selected by <paramref name="matcher"/>, which sees module names relative to the
    /// encoder (encoder.layer.0.attention.self.query, pooler.dense) as the exporter does; names returned are
    /// relative to the classification model (bert.…).
    /// </summary>
    protected static IReadOnlyList<(string Name, Linear Linear)> FindLinearTargets(BertForSequenceClassification model, AdapterTargetMatcher matcher, string describe)
    {
        var linears = model.Bert.named_modules().Where(m => m.module is Linear).Select(m => (m.name, (Linear)m.module)).ToList();
        var found = linears.Where(l => matcher.Matches(l.name)).Select(l => ("bert." + l.name, l.Item2)).ToList();
        var unmatched = matcher.UnmatchedEntries(linears.Select(l => l.name));
        if (found.Count == 0 || unmatched.Count > 0)
        {
            throw new ArgumentException(
                $"target_modules {describe}: {(unmatched.Count > 0 ? string.Join(", ", unmatched.Select(u => $"'{u}'")) : "the list")} match(es) no Linear layer of the encoder; " +
                "use query, key, value, dense, attention.output.dense, intermediate.dense, output.dense or pooler.dense.");
        }
        return found;
    }
}
