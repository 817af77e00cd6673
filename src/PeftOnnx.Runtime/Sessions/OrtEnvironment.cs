using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;

namespace PeftOnnx.Runtime.Sessions;

/// <summary>
/// ONNX Runtime's process-wide environment, created once, with its usage telemetry off.
/// <para>Telemetry: the Linux package records events with OneDS in a SQLite store
/// (~/.cache/Microsoft/DeveloperTools/.onnxruntime/onnxruntime.db, written at every process start and sent when a
/// network is there); a service that scores users' documents, often on an edge box, records and sends nothing.
/// ORT_DISABLE_TELEMETRY must be in the native environment when the environment is created (.NET's
/// Environment.SetEnvironmentVariable does not reach it on Unix), and DisableTelemetryEvents covers the rest. A value
/// the user set is kept.</para>
/// <para>Start: loading the library and creating the environment is ~50 ms of a ~250 ms cold start (its static
/// initialisers, CPU detection); a model loader begins it on the thread pool before reading its bundle, so the two
/// overlap (docs/PERFORMANCE.md, "Cold start").</para>
/// </summary>
public static partial class OrtEnvironment
{
    private const string TelemetryVariable = "ORT_DISABLE_TELEMETRY";

    private static readonly Lazy<OrtEnv> Env = new(Create);
    private static Task? _started;

    /// <summary>The environment; the first use creates it (or waits for a creation <see cref="Start"/> began).</summary>
    public static OrtEnv Instance => Env.Value;

    /// <summary>Begins creating the environment on the thread pool; a failure surfaces at the first <see cref="Instance"/>.</summary>
    public static void Start()
    {
        if (Volatile.Read(ref _started) is null)
            Interlocked.CompareExchange(ref _started, Task.Run(() => _ = Env.Value), null);
    }

    /// <summary>
    /// Waits for a creation <see cref="Start"/> began and ignores its outcome: a process exits only once ONNX Runtime's
    /// library is no longer initialising on another thread (its static destructors would run under it).
    /// </summary>
    public static void Settle()
    {
        try
        {
            Volatile.Read(ref _started)?.Wait();
        }
        catch (AggregateException)
        {
            // Reported where the environment is used; exiting is all that is left here.
        }
    }

    private static OrtEnv Create()
    {
        if (!OperatingSystem.IsWindows() && Environment.GetEnvironmentVariable(TelemetryVariable) is null)
            _ = SetEnv(TelemetryVariable, "1", 0); // overwrite 0: a value set meanwhile wins
        var env = OrtEnv.Instance();
        env.DisableTelemetryEvents();
        return env;
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);
}
