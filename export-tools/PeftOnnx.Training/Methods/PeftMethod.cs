using System.Text.Json.Nodes;
using PeftOnnx.Training.Encoder;
using TorchSharp;

namespace PeftOnnx.Training.Methods;

/// <summary>
/// A fine-tuning method: what it adds to a <see cref="BertForSequenceClassification"/>, which
/// parameters train, and how the trained parameters are written as a Hugging Face PEFT adapter.
/// One folder per method holds its config, its layer and its injection.
/// </summary>
public abstract class PeftMethod
{
    /// <summary>The CLI name (lora, dora, ia3, houlsby, pfeiffer, prompt, prefix, probe, full).</summary>
    public abstract string Name { get; }

    /// <summary>peft_type in adapter_config.json (LORA, IA3, PROMPT_TUNING, ...).</summary>
    public abstract string PeftType { get; }

    /// <summary>Base modules trained in full and saved whole (PEFT's modules_to_save), relative to the classification model.</summary>
    public virtual IReadOnlyList<string> ModulesToSave { get; } = ["classifier"];

    /// <summary>Adds the method's modules to <paramref name="model"/> (new parameters are trainable, the base is not touched).</summary>
    protected abstract void Inject(BertForSequenceClassification model);

    /// <summary>The method's own fields of adapter_config.json (peft_type, task_type and modules_to_save are added by the writer).</summary>
    public abstract JsonObject ConfigFields(BertConfig config);

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
    public virtual string AdapterKey(string parameterName) => "base_model.model." + parameterName;

    /// <summary>The parameter name for a key of adapter_model.safetensors, or null when the key is not this method's.</summary>
    public virtual string? ParameterName(string adapterKey) =>
        adapterKey.StartsWith("base_model.model.", StringComparison.Ordinal) ? adapterKey["base_model.model.".Length..] : null;

    /// <summary>Linear layers of the encoder that a target list selects (never the classifier, which is saved whole).</summary>
    protected static IReadOnlyList<(string Name, TorchSharp.Modules.Linear Linear)> FindLinearTargets(BertForSequenceClassification model, IReadOnlyList<string> targets)
    {
        var found = ModuleSurgery.FindTargets(model, targets, m => m is TorchSharp.Modules.Linear)
            .Where(t => !t.Name.StartsWith("classifier", StringComparison.Ordinal))
            .Select(t => (t.Name, (TorchSharp.Modules.Linear)t.Module))
            .ToList();
        if (found.Count == 0)
            throw new ArgumentException($"target_modules [{string.Join(", ", targets)}] match no Linear layer of the encoder; use names such as query, key, value, dense, attention.output.dense, intermediate.dense.");
        foreach (var entry in targets)
        {
            if (!found.Any(f => ModuleSurgery.Matches(f.Name, entry)))
                throw new ArgumentException($"target module '{entry}' matches no Linear layer of the encoder (known: query, key, value, attention.output.dense, intermediate.dense, output.dense, pooler.dense).");
        }
        return found;
    }
}
