using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Adapters.Lora;

namespace PeftOnnx.Training.Arithmetic;

/// <summary>How much of one module's delta the rank-r factors keep: Σ kept σ² / Σ σ², with ‖ΔW‖_F and ‖ΔW‖/‖W‖.</summary>
public sealed record ModuleEnergy(string Module, int Rank, double Energy, double DeltaNorm, double RelativeChange, double KeptSquares, double TotalSquares);

/// <summary>
/// Any weight delta as a PEFT LoRA adapter (PEFT's LoRA extraction): per changed Linear layer the truncated SVD
/// ΔW ≈ (U_r·diag(S_r))·Vh_r, written as lora_B = U_r·S_r and lora_A = Vh_r with lora_alpha = r, so the scaling
/// alpha/r is exactly 1 and B·A is the rank-r approximation itself. target_modules lists the changed modules by full
/// name (PEFT matches a name exactly or as a dotted suffix). The saved modules (classifier) are carried over.
/// </summary>
public static class LoraExtraction
{
    public static (DerivedLoraAdapter Adapter, IReadOnlyList<ModuleEnergy> Energy) Extract(WeightDeltas deltas, int rank, string? savedFrom)
    {
        ArgumentNullException.ThrowIfNull(deltas);
        if (rank <= 0)
            throw new ArgumentException($"--rank should be positive, got {rank}.");
        if (deltas.Linears.Count == 0)
            throw new InvalidDataException("the fine-tune changes no Linear weight of the base, so there is nothing for LoRA to carry.");
        var tooSmall = deltas.Linears.FirstOrDefault(d => rank > Math.Min(d.Delta.Rows, d.Delta.Cols));
        if (tooSmall is not null)
            throw new ArgumentException($"--rank {rank} exceeds min(out, in) = {Math.Min(tooSmall.Delta.Rows, tooSmall.Delta.Cols)} of {tooSmall.Module} {tooSmall.Delta.Shape}; a full-rank delta needs no LoRA.");

        var factors = new List<LoraFactors>();
        var energy = new List<ModuleEnergy>();
        foreach (var d in deltas.Linears)
        {
            var f = TruncatedSvd.Factorize(d.Delta, rank);
            factors.Add(new LoraFactors(d.Module, f.A, f.B));
            var total = f.SingularValues.Sum(v => v * v);
            var kept = f.SingularValues.Take(rank).Sum(v => v * v);
            energy.Add(new ModuleEnergy(d.Module, rank, f.EnergyKept, Math.Sqrt(total), d.BaseNorm == 0 ? double.PositiveInfinity : Math.Sqrt(total) / d.BaseNorm, kept, total));
        }
        var config = new LoraConfig
        {
            R = rank,
            LoraAlpha = rank,
            TargetModules = TargetModules.FromNames(deltas.Linears.Select(d => d.Module)),
            TaskType = deltas.TaskType,
            ModulesToSave = deltas.ModulesToSave,
            BaseModelNameOrPath = deltas.BaseModelNameOrPath,
        };
        return (new DerivedLoraAdapter(config, factors, deltas.Saved, savedFrom), energy);
    }
}
