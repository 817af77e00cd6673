using System.Runtime.InteropServices;

namespace PeftOnnx.Benchmarking;

/// <summary>
/// Host/device copies through the CUDA runtime (cudaMemcpy), for buffers a captured CUDA graph reads and writes at
/// fixed addresses. ONNX Runtime's OrtEnv.CopyTensors only serves providers registered as plugin libraries, not the
/// CUDA provider appended to session options, so the copy goes to libcudart directly. cudaMemcpy from pageable host
/// memory returns when the copy is done, so a following Run sees the data.
/// </summary>
internal static partial class CudaCopy
{
    private const int HostToDevice = 1;
    private const int DeviceToHost = 2;

    private static readonly Lazy<MemcpyFunction> Memcpy = new(Load);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int MemcpyFunction(IntPtr destination, IntPtr source, nuint bytes, int kind);

    public static void ToDevice(IntPtr device, IntPtr host, long bytes) => Check(Memcpy.Value(device, host, (nuint)bytes, HostToDevice), "host to device", bytes);

    public static void ToHost(IntPtr host, IntPtr device, long bytes) => Check(Memcpy.Value(host, device, (nuint)bytes, DeviceToHost), "device to host", bytes);

    private static void Check(int status, string direction, long bytes)
    {
        if (status != 0)
            throw new InvalidOperationException($"cudaMemcpy {direction} of {bytes} bytes failed with CUDA error {status}.");
    }

    private static MemcpyFunction Load()
    {
        foreach (var name in new[] { "libcudart.so.13", "libcudart.so.12", "libcudart.so" })
        {
            if (NativeLibrary.TryLoad(name, out var library) && NativeLibrary.TryGetExport(library, "cudaMemcpy", out var function))
                return Marshal.GetDelegateForFunctionPointer<MemcpyFunction>(function);
        }
        throw new DllNotFoundException("The CUDA runtime (libcudart.so.13 or .12) was not found on LD_LIBRARY_PATH; CUDA graphs need it to refresh their input buffers.");
    }
}
