using Onnx;
using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Onnx.Export;
using PeftOnnx.Onnx.Modules;

namespace PeftOnnx.Onnx.Side;

/// <summary>What a <see cref="ISideGraphMethod"/> builds on: the base graph (changed in place), its modules and the adapters of one bundle.</summary>
public sealed record SideGraphRequest(ModelProto Model, ModuleMap Map, string BaseName, IReadOnlyList<PeftAdapter> Adapters, SideBundleOptions Options, IProgress<string>? Progress)
{
    public bool Mixed => Options.Form == SideGraphManifest.MixedForm;
}
