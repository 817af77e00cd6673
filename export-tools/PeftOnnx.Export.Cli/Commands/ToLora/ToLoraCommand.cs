using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using PeftOnnx.Cli.Commands.Common;
using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Hashing;
using PeftOnnx.Core.IO;
using PeftOnnx.Core.Models;
using PeftOnnx.Onnx.Export;
using PeftOnnx.Training.Arithmetic;
using PeftOnnx.Training.Encoder;

namespace PeftOnnx.Export.Cli.Commands.ToLora;

/// <summary>
/// `peftonnx-export to-lora`: the truncated SVD of any fine-tune's Linear weight deltas (a full fine-tune or probe
/// folder, or a mergeable PEFT adapter: LoRA of another rank, DoRA, IA3, a merged adapter) written as a PEFT LoRA
/// adapter (<see cref="LoraExtraction"/>), all-or-nothing. The energy kept per module goes to stdout; changes LoRA
/// cannot carry (biases, LayerNorm, embeddings) are dropped with a warning that gives their size.
/// </summary>
internal static class ToLoraCommand
{
    public static Command Create()
    {
        var baseModel = new Option<string>("--base", "-b") { Description = "Base model folder the fine-tune started from, e.g. models/minilm-l6.", Required = true };
        var adapter = new Option<string>("--adapter", "-a") { Description = "A fine-tuned transformers folder (config.json + model.safetensors, e.g. train --method full) or a mergeable PEFT adapter folder.", Required = true };
        var rank = new Option<int>("--rank") { Description = "LoRA rank r of every extracted module (1..min(out, in)).", Required = true };
        var output = new Option<string>("--output", "-o") { Description = "Output folder: the PEFT LoRA adapter.", Required = true }.WithLegacyAlias("--out");
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace an existing --output folder." };
        var command = new Command("to-lora", "Turn a full fine-tune or any mergeable adapter into a PEFT LoRA adapter of rank r (truncated SVD of each Linear weight delta).")
        {
            baseModel, adapter, rank, output, overwrite,
        };
        command.SetAction(parseResult =>
        {
            var stdout = parseResult.InvocationConfiguration.Output;
            var stderr = parseResult.InvocationConfiguration.Error;
            try
            {
                var r = parseResult.GetValue(rank);
                if (r <= 0)
                    throw new ArgumentException($"--rank should be positive, got {r}.");
                var source = parseResult.GetValue(adapter)!;
                var outputDir = Path.GetFullPath(parseResult.GetValue(output)!);
                if (Directory.Exists(outputDir) && !parseResult.GetValue(overwrite))
                    throw new IOException($"{outputDir} already exists; pass --overwrite to replace it, or choose another --output.");
                if (!Directory.Exists(source))
                    throw new DirectoryNotFoundException($"--adapter {source} does not exist.");

                var encoder = BaseEncoder.Load(parseResult.GetValue(baseModel)!);
                var baseSha256 = FileSha256.Of(encoder.OnnxPath);
                var warnings = new List<string>();
                WeightDeltas deltas;
                if (FineTunedModelFolder.IsFineTunedModel(source))
                {
                    AdapterBaseCheck.Require(source, null, BaseModelIdentity.Of(encoder.Manifest, baseSha256), allowMismatch: false, warnings);
                    deltas = WeightDeltas.FromFineTuned(encoder.Weights, FineTunedModelFolder.Open(source));
                }
                else
                {
                    var peft = PeftAdapter.Load(source);
                    AdapterBaseCheck.Require(peft.Directory, peft.Config.BaseModelNameOrPath, BaseModelIdentity.Of(encoder.Manifest, baseSha256), allowMismatch: false, warnings);
                    deltas = WeightDeltas.FromAdapter(encoder.Weights, peft);
                }
                deltas = deltas with { BaseModelNameOrPath = deltas.BaseModelNameOrPath ?? encoder.Manifest.HubId ?? encoder.Manifest.Name };
                var (lora, energy) = LoraExtraction.Extract(deltas, r, source);
                foreach (var dropped in deltas.Dropped)
                {
                    warnings.Add(FormattableString.Invariant(
                        $"dropped {dropped.Kind}: {dropped.Tensors} tensors, {dropped.Values:N0} values changed by ‖Δ‖ = {dropped.DeltaNorm:G4} ({dropped.DeltaNorm / Math.Max(dropped.BaseNorm, double.Epsilon):P3} of ‖W‖ = {dropped.BaseNorm:G4}); LoRA carries Linear weights only."));
                }
                foreach (var warning in warnings)
                    stderr.WriteLine($"warning: {warning}");

                var record = DerivedAdapterRecord.Create(encoder.Manifest.Name, baseSha256, lora.Config.BaseModelNameOrPath, "to-lora", source, new JsonObject
                {
                    ["source_sha256"] = FileSha256.Of(FineTunedModelFolder.IsFineTunedModel(source) ? Path.Combine(source, FineTunedModelFolder.WeightsFile) : Path.Combine(source, PeftAdapter.WeightsFileName)),
                    ["rank"] = r,
                    ["energy_kept"] = energy.Sum(e => e.KeptSquares) / energy.Sum(e => e.TotalSquares),
                });
                AtomicFolder.Write(outputDir, parseResult.GetValue(overwrite), "--overwrite", tmp =>
                {
                    PeftAdapterWriter.WriteInto(tmp, lora.Config, lora.Tensors());
                    DerivedAdapterRecord.Save(tmp, record);
                });
                WriteEnergy(stdout, energy, lora, deltas);
                stdout.WriteLine($"{outputDir}: LoRA r = {r}, {lora.Modules.Count} modules" + (lora.SavedTensors.Count > 0 ? $", with {string.Join(", ", lora.Config.ModulesToSave ?? [])}" : ""));
                return 0;
            }
            catch (Exception e) when (e is InvalidDataException or IOException or ArgumentException or NotSupportedException)
            {
                stderr.WriteLine($"error: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    private static void WriteEnergy(TextWriter stdout, IReadOnlyList<ModuleEnergy> energy, DerivedLoraAdapter lora, WeightDeltas deltas)
    {
        var width = Math.Max(6, energy.Max(e => e.Module.Length));
        stdout.WriteLine($"{"module".PadRight(width)}  {"‖ΔW‖/‖W‖",10}  {"energy kept",11}");
        foreach (var e in energy)
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{e.Module.PadRight(width)}  {e.RelativeChange,10:F5}  {e.Energy,11:P2}"));
        var loraValues = lora.Modules.Sum(m => (long)m.A.Data.Length + m.B.Data.Length);
        var denseValues = deltas.Linears.Sum(d => (long)d.Delta.Data.Length);
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"total: {energy.Count} modules, energy kept {energy.Sum(e => e.KeptSquares) / energy.Sum(e => e.TotalSquares):P2} (Σ kept σ² / Σ σ²), lowest {energy.Min(e => e.Energy):P2} ({energy.MinBy(e => e.Energy)!.Module}); {loraValues:N0} LoRA values for {denseValues:N0} delta values ({(double)loraValues / denseValues:P2})"));
    }
}
