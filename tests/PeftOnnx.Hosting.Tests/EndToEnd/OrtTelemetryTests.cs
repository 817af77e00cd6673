using PeftOnnx.Hosting.Tests.Support;
using PeftOnnx.Tests;
using Xunit.Abstractions;

namespace PeftOnnx.Hosting.Tests.EndToEnd;

/// <summary>
/// ONNX Runtime's Linux package records usage events in a SQLite store under $HOME/.cache/Microsoft/DeveloperTools
/// unless its telemetry is off when its environment is created; `peftonnx` turns it off (OrtEnvironment).
/// </summary>
public sealed class OrtTelemetryTests(ITestOutputHelper output)
{
    [SkippableFact]
    public async Task Scoring_leaves_no_onnx_runtime_telemetry_store_behind()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "the OneDS store is written by ONNX Runtime's Linux package");
        var model = TestModels.EnsurePulled("minilm-l6");
        using var temp = new TempFolder("telemetry");
        var home = Directory.CreateDirectory(temp.Combine("home")).FullName;
        var document = temp.Combine("doc.txt");
        File.WriteAllText(document, "GNU Octave package for geometry: polygons, points and lines.");
        var environment = new Dictionary<string, string> { ["HOME"] = home };
        using var run = PeftOnnxProcess.Start(environment, "score", "-m", model, document);
        await run.WaitForExitAsync(TimeSpan.FromSeconds(120));
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Contains("\"status\":\"scored\"", run.Output);
        var written = Directory.EnumerateFileSystemEntries(home, "*", SearchOption.AllDirectories).ToList();
        output.WriteLine($"files under the run's HOME: {(written.Count == 0 ? "none" : string.Join(", ", written))}");
        Assert.DoesNotContain(written, p => p.Contains(Path.Combine(".cache", "Microsoft", "DeveloperTools"), StringComparison.Ordinal));
    }
}
