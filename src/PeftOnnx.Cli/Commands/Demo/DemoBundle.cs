using System.Diagnostics;
using PeftOnnx.Cli.Commands.Common;
using PeftOnnx.Core.Bundles;
using Spectre.Console;

namespace PeftOnnx.Cli.Commands.Demo;

/// <summary>
/// The demo's classifier: the LoRA adapter shipped in models/adapters, merged into the pulled base model.
/// The runtime cannot rewrite ONNX graphs (that is the toolchain's job), so the first demo run in a source
/// checkout builds the bundle once with <c>peftonnx-export export</c> and later runs reuse it.
/// </summary>
internal static class DemoBundle
{
    /// <summary>The bundle folder, built when missing; null when the checkout has no toolchain or adapter.</summary>
    public static async Task<string?> EnsureAsync(CliContext context, string repoRoot, string baseModelDir, CancellationToken cancellationToken)
    {
        var bundle = Path.Combine(repoRoot, DemoDefaults.BundleFolder);
        if (File.Exists(Path.Combine(bundle, BundleManifest.FileName)))
            return bundle;

        var adapter = Path.Combine(repoRoot, DemoDefaults.AdapterFolder);
        var exporter = Path.Combine(repoRoot, DemoDefaults.ExporterProject);
        if (!Directory.Exists(adapter) || !File.Exists(exporter))
        {
            context.Progress.MarkupLine($"[yellow]No {Markup.Escape(DemoDefaults.AdapterFolder)} or toolchain here: classifying zero-shot with the base model.[/]");
            return null;
        }

        context.Progress.MarkupLine($"Set-up (once): merging [bold]{Markup.Escape(DemoDefaults.AdapterFolder)}[/] into the base model -> {Markup.Escape(DemoDefaults.BundleFolder)}");
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = repoRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in new[]
                 {
                     "run", "--project", exporter, "-c", "Release", "--",
                     "export", "--base", baseModelDir, "--adapter", adapter, "--output", bundle, // labels: the exporter reads the adapter's training.json
                 })
            start.ArgumentList.Add(arg);

        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start `dotnet` to build the demo bundle.");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
            throw new InvalidOperationException(
                $"Building the demo bundle failed (exit {process.ExitCode}): dotnet {string.Join(' ', start.ArgumentList)}\n{await stderr}{await stdout}");
        return bundle;
    }
}
