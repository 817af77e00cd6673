using Onnx;
using PeftOnnx.Onnx.Graph;

namespace PeftOnnx.Onnx.Passes;

/// <summary>Runs passes: each collects on the graph as the previous one left it, then its edits are applied together.</summary>
public static class GraphPasses
{
    /// <summary>Applies <paramref name="pass"/> to <paramref name="model"/> in place; a pass that throws leaves the model unchanged.</summary>
    public static PassReport Apply(this ModelProto model, IGraphPass pass)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(pass);
        var rewrite = new GraphRewrite(model);
        var report = pass.Collect(rewrite);
        rewrite.Apply();
        return report;
    }

    /// <summary>Applies <paramref name="passes"/> in order and returns what each did.</summary>
    public static IReadOnlyList<PassReport> Apply(this ModelProto model, IEnumerable<IGraphPass> passes)
    {
        ArgumentNullException.ThrowIfNull(passes);
        return [.. passes.Select(p => model.Apply(p))];
    }

    /// <summary>Applies <paramref name="pass"/> and returns it, for passes that expose what they added (a side graph's adapter inputs).</summary>
    public static TPass Applied<TPass>(this ModelProto model, TPass pass) where TPass : IGraphPass
    {
        model.Apply(pass);
        return pass;
    }
}
