using PeftOnnx.Core.Bundles;

namespace PeftOnnx.Onnx.Export;

/// <summary>What an export produced: the bundle folder, its manifest, the merged modules and any warnings.</summary>
public sealed record BundleExportResult(string Directory, BundleManifest Manifest, IReadOnlyList<string> MergedModules, IReadOnlyList<string> Warnings);
