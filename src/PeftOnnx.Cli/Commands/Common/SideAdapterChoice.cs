using PeftOnnx.Runtime.Adapters;

namespace PeftOnnx.Cli.Commands.Common;

/// <summary>
/// The adapter `score` and `eval` run on a side or mixed bundle (<see cref="AdapterRegistry.ChooseDefault"/>): --adapter
/// when the bundle serves it, else the bundle's only adapter. Several adapters and no --adapter, none at all, or a name
/// not served are usage errors listing the adapters; the bare graph's default inputs never score silently.
/// </summary>
internal static class SideAdapterChoice
{
    public static string Require(SideModel model, string? requested)
    {
        ArgumentNullException.ThrowIfNull(model);
        string? chosen;
        try
        {
            chosen = model.Registry.ChooseDefault(requested);
        }
        catch (AdapterNotFoundException e)
        {
            throw new UsageException($"--adapter {requested}: {e.Message}");
        }
        if (chosen is not null)
            return chosen;
        var names = model.Registry.Adapters.Keys.Order(StringComparer.Ordinal).ToList();
        throw new UsageException(names.Count == 0
            ? $"{model.Directory} is a side bundle without adapters ({model.Registry.Directory} holds no usable .onnx_adapter file); add one there."
            : $"{model.Directory} is a side bundle with {names.Count} adapters ({string.Join(", ", names)}); pick one with --adapter.");
    }
}
