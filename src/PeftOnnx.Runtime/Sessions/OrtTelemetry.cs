using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;

namespace PeftOnnx.Runtime.Sessions;

/// <summary>
/// Turns ONNX Runtime's usage telemetry off before its environment exists. Its Linux package records events with
/// OneDS in a SQLite store (~/.cache/Microsoft/DeveloperTools/.onnxruntime/onnxruntime.db, written at every process
/// start and sent when a network is there); a service that scores users' documents, often on an edge box, records and
/// sends nothing. ORT_DISABLE_TELEMETRY must be in the native environment when the environment is created
/// (.NET's Environment.SetEnvironmentVariable does not reach it on Unix), and DisableTelemetryEvents covers the rest.
/// A value the user set is kept.
/// </summary>
internal static partial class OrtTelemetry
{
    private const string Variable = "ORT_DISABLE_TELEMETRY";

    private static readonly Lazy<bool> Off = new(() =>
    {
        if (!OperatingSystem.IsWindows() && Environment.GetEnvironmentVariable(Variable) is null)
            _ = SetEnv(Variable, "1", 0); // overwrite 0: a value set meanwhile wins
        OrtEnv.Instance().DisableTelemetryEvents();
        return true;
    });

    /// <summary>Call before the first ONNX Runtime object is made; later calls do nothing.</summary>
    public static void Disable() => _ = Off.Value;

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);
}
