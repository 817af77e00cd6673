using Onnx;

namespace PeftOnnx.Onnx.Passes.Fusions;

/// <summary>One graph fusion: finds its pattern, replaces every match, reports what it could not fuse.</summary>
public interface IFusionPass
{
    string Name { get; }

    FusionResult Apply(ModelProto model);
}
