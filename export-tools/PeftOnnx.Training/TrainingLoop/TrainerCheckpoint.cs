using PeftOnnx.Core.IO;
using PeftOnnx.Core.Json;
using PeftOnnx.Core.SafeTensors;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftOnnx.Training.TrainingLoop;

/// <summary>
/// A resumable checkpoint folder: trainable.safetensors (the trainable parameters by name, plus the CPU
/// random-generator state), optimizer.bin (AdamW moments) and state.json. Written to a temporary
/// folder and renamed (AtomicFolder), so an interruption never leaves a half-written checkpoint.
/// </summary>
public static class TrainerCheckpoint
{
    private const string ParametersFile = "trainable.safetensors";
    private const string OptimizerFile = "optimizer.bin";
    private const string StateFile = "state.json";
    private const string RngKey = "__torch_rng_state__";

    public static bool Exists(string directory) => File.Exists(Path.Combine(directory, StateFile));

    public static void Save(string directory, IReadOnlyList<(string Name, Parameter Parameter)> trainable, OptimizerHelper? optimizer, TrainerState state)
    {
        // A checkpoint always replaces the previous one, and only once it is complete.
        AtomicFolder.Write(directory, replace: true, replaceOption: "", tmp =>
        {
            SaveParameters(Path.Combine(tmp, ParametersFile), trainable, includeRng: true);
            optimizer?.save_state_dict(Path.Combine(tmp, OptimizerFile));
            PeftJson.Save(Path.Combine(tmp, StateFile), state);
        });
    }

    public static TrainerState Load(string directory, IReadOnlyList<(string Name, Parameter Parameter)> trainable, OptimizerHelper? optimizer)
    {
        if (!Exists(directory))
            throw new FileNotFoundException($"{directory} holds no checkpoint ({StateFile} is missing); train without --resume to start afresh.");
        LoadParameters(Path.Combine(directory, ParametersFile), trainable, restoreRng: true);
        var optimizerPath = Path.Combine(directory, OptimizerFile);
        if (optimizer is not null && File.Exists(optimizerPath))
            optimizer.load_state_dict(optimizerPath);
        return PeftJson.Load<TrainerState>(Path.Combine(directory, StateFile));
    }

    public static void SaveParameters(string path, IReadOnlyList<(string Name, Parameter Parameter)> parameters, bool includeRng)
    {
        var tensors = parameters.Select(p => SafeTensor.FromFloat32(p.Name, ToArray(p.Parameter), p.Parameter.shape)).ToList();
        if (includeRng)
        {
            using var rng = random.get_rng_state();
            tensors.Add(new SafeTensor(RngKey, SafeTensorDType.U8, rng.shape, rng.data<byte>().ToArray()));
        }
        SafeTensorWriter.Write(path, tensors);
    }

    public static void LoadParameters(string path, IReadOnlyList<(string Name, Parameter Parameter)> parameters, bool restoreRng)
    {
        using var file = SafeTensorFile.Open(path);
        using (no_grad())
        {
            foreach (var (name, parameter) in parameters)
            {
                if (!file.Contains(name))
                    throw new InvalidDataException($"{path} lacks trainable parameter {name}; was it written for another method or target list?");
                var info = file[name];
                if (!info.Shape.SequenceEqual(parameter.shape))
                    throw new InvalidDataException($"{path}: {name} has shape {info.ShapeText}, the model expects [{string.Join(", ", parameter.shape)}].");
                using var source = tensor(file.ReadFloat32(name), info.Shape);
                parameter.copy_(source);
            }
        }
        if (restoreRng && file.Contains(RngKey))
        {
            using var rng = tensor(file.ReadBytes(RngKey), dtype: ScalarType.Byte);
            random.set_rng_state(rng);
        }
    }

    public static float[] ToArray(Tensor t)
    {
        // detach/cpu/contiguous may each make a tensor; the scope disposes all of them.
        using var scope = NewDisposeScope();
        return t.detach().cpu().contiguous().data<float>().ToArray();
    }
}
