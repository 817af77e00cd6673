using Microsoft.ML.OnnxRuntime;

namespace PeftOnnx.Runtime.Sessions;

/// <summary>An ONNX Runtime session and the device it actually runs on. Owns and disposes the session.</summary>
public sealed class ModelSession : IDisposable
{
    // An ORT-format model's bytes, which the session reads in place: held as long as the session.
    private readonly byte[]? _modelBytes;

    public ModelSession(InferenceSession session, DeviceKind device, int intraOpThreads, byte[]? modelBytes = null)
    {
        Session = session;
        Device = device;
        IntraOpThreads = intraOpThreads;
        _modelBytes = modelBytes;
    }

    public InferenceSession Session { get; }

    /// <summary><see cref="DeviceKind.Cpu"/> or <see cref="DeviceKind.Cuda"/>, never Auto.</summary>
    public DeviceKind Device { get; }

    /// <summary>Intra-op threads of the CPU provider (0 when ONNX Runtime picks).</summary>
    public int IntraOpThreads { get; }

    public void Dispose()
    {
        Session.Dispose();
        GC.KeepAlive(_modelBytes);
    }
}
