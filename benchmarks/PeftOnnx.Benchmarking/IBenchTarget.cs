using PeftOnnx.Runtime.Tokenization;

namespace PeftOnnx.Benchmarking;

/// <summary>One thing being timed (a model file run a certain way). <see cref="Prepare"/> is not timed; <see cref="Run"/> is.</summary>
public interface IBenchTarget : IDisposable
{
    string Name { get; }

    /// <summary>What this target does, for the settings lines printed with every table.</summary>
    string Settings { get; }

    /// <summary>Sets the batch every following <see cref="Run"/> processes (binds buffers, captures graphs).</summary>
    void Prepare(TokenBatch batch);

    /// <summary>One inference call, its outputs back where the caller can read them.</summary>
    void Run();

    /// <summary>
    /// Runs the prepared batch once and returns host copies of its float outputs by name, for parity checks between
    /// variants; empty when the outputs stay on the device.
    /// </summary>
    IReadOnlyDictionary<string, float[]> ReadOutputs();
}
