using Microsoft.ML.OnnxRuntime;
using PeftOnnx.Runtime.Tokenization;

namespace PeftOnnx.Benchmarking;

/// <summary>
/// The 20-line ONNX Runtime program a .NET developer writes: default SessionOptions (plus the CUDA provider when
/// asked), input OrtValues wrapping the batch's arrays made on every call, every output returned to the host.
/// </summary>
public sealed class PlainOrtTarget : IBenchTarget
{
    private readonly InferenceSession _session;
    private readonly string[] _outputNames;
    private TokenBatch? _batch;

    public PlainOrtTarget(string name, string modelPath, bool cuda, int cudaDeviceId = 0)
    {
        Name = name;
        using var options = new SessionOptions();
        if (cuda)
            options.AppendExecutionProvider_CUDA(cudaDeviceId);
        _session = new InferenceSession(modelPath, options);
        _outputNames = [.. _session.OutputNames];
        Settings = $"{name}: {Path.GetFileName(modelPath)}, default SessionOptions{(cuda ? " + CUDA provider" : "")}, Run(OrtValue) per call, outputs {string.Join(", ", _outputNames)} copied to host";
    }

    public string Name { get; }

    public string Settings { get; }

    public void Prepare(TokenBatch batch) => _batch = batch;

    public void Run() => RunOnce(null);

    public IReadOnlyDictionary<string, float[]> ReadOutputs()
    {
        var read = new Dictionary<string, float[]>(StringComparer.Ordinal);
        RunOnce(read);
        return read;
    }

    private void RunOnce(Dictionary<string, float[]>? read)
    {
        var batch = _batch ?? throw new InvalidOperationException($"{Name}: call Prepare before Run.");
        long[] shape = [batch.BatchSize, batch.SequenceLength];
        var names = new List<string>(3);
        var values = new List<OrtValue>(3);
        try
        {
            foreach (var input in _session.InputNames)
            {
                names.Add(input);
                values.Add(OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, BenchInputs.Select(batch, input), shape));
            }
            using var runOptions = new RunOptions();
            using var outputs = _session.Run(runOptions, names, values, _outputNames);
            if (read is not null)
            {
                for (var o = 0; o < _outputNames.Length; o++)
                    read[_outputNames[o]] = outputs[o].GetTensorDataAsSpan<float>().ToArray();
            }
        }
        finally
        {
            foreach (var value in values)
                value.Dispose();
        }
    }

    public void Dispose() => _session.Dispose();
}
