using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Adapters.Lora;
using PeftOnnx.Core.Numerics;
using PeftOnnx.Core.SafeTensors;

namespace PeftOnnx.Training.Arithmetic;

/// <summary>The lora_A [r, in] and lora_B [out, r] of one module of a computed adapter.</summary>
public sealed record LoraFactors(string Module, Matrix64 A, Matrix64 B);

/// <summary>
/// A LoRA adapter computed from others (merge-adapters) or from a weight delta (to-lora): its config, its factors per
/// module, and the tensors it carries over unchanged (modules_to_save: the classifier) with the folder they came from.
/// </summary>
public sealed record DerivedLoraAdapter(LoraConfig Config, IReadOnlyList<LoraFactors> Modules, IReadOnlyList<AdapterTensor> SavedTensors, string? SavedFrom)
{
    /// <summary>The adapter_model.safetensors tensors with PEFT's key names, as float32; throws naming a module whose factors are not finite.</summary>
    public IEnumerable<SafeTensor> Tensors()
    {
        var keys = new PeftKeys(Config.TaskType);
        foreach (var m in Modules)
        {
            FiniteValues.Require(m.A, $"the computed lora_A of {m.Module}");
            FiniteValues.Require(m.B, $"the computed lora_B of {m.Module}");
            yield return SafeTensor.FromFloat32(keys.LoraA(m.Module), m.A.ToFloat32(), m.A.Rows, m.A.Cols);
            yield return SafeTensor.FromFloat32(keys.LoraB(m.Module), m.B.ToFloat32(), m.B.Rows, m.B.Cols);
        }
        foreach (var t in SavedTensors)
            yield return SafeTensor.FromFloat32(t.Name, [.. t.Data.Select(v => (float)v)], t.Shape);
    }

    /// <summary>ΔW = s·B·A of one module, with the written config's scaling.</summary>
    public Matrix64 Delta(string module) =>
        Modules.FirstOrDefault(m => m.Module == module) is { } m
            ? LoraDelta.Compute(m.A, m.B, Config.ScaleFor(module))
            : throw new ArgumentException($"the adapter has no module {module}.", nameof(module));
}
