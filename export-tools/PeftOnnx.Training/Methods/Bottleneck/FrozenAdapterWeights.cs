using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Adapters.Bottleneck;
using PeftOnnx.Training.Encoder;
using TorchSharp;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Methods.Bottleneck;

/// <summary>Puts a <see cref="FrozenAdapterSet"/>'s weights into the slots a composition (fusion, stack) made for them.</summary>
public static class FrozenAdapterWeights
{
    /// <summary>
    /// Copies adapter k's encoder tensors into <c>&lt;site&gt;.adapter.adapters.&lt;k&gt;.*</c> (<see cref="FrozenAdapterSet.Parameter"/>)
    /// and freezes them; throws naming the adapter when a tensor has no slot or another shape, or a slot stays empty.
    /// </summary>
    public static void Load(BertForSequenceClassification model, FrozenAdapterSet adapters)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(adapters);
        var parameters = model.Bert.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var loaded = new HashSet<string>(StringComparer.Ordinal);
        using var _ = no_grad();
        for (var k = 0; k < adapters.Count; k++)
        {
            var name = adapters.Names[k];
            foreach (var t in adapters.Adapters[k].Tensors.Where(t => t.Key.InEncoder))
            {
                var slot = FrozenAdapterSet.Parameter($"{t.Key.Module}.{t.Key.Parameter}", k);
                if (!parameters.TryGetValue(slot, out var parameter))
                    throw new InvalidDataException($"{adapters.Role} {name}: tensor {t.Name} has no slot {slot} in this model; is the adapter for another base model?");
                if (!t.Shape.SequenceEqual(parameter.shape))
                    throw new InvalidDataException($"{adapters.Role} {name}: {t.Name} has shape {t.ShapeText}, the model expects [{string.Join(", ", parameter.shape)}]; is the adapter for another base model?");
                FiniteValues.Require(t.Data, $"{adapters.Role} {name} tensor {t.Name}");
                using var source = tensor(Array.ConvertAll(t.Data, v => (float)v), t.Shape);
                parameter.copy_(source);
                parameter.requires_grad = false;
                loaded.Add(slot);
            }
        }
        var missing = parameters.Keys
            .Where(n => Enumerable.Range(0, adapters.Count).Any(k => n.Contains($".adapter.{FrozenAdapterSet.Module}.{k}.", StringComparison.Ordinal)) && !loaded.Contains(n))
            .ToList();
        if (missing.Count > 0)
            throw new InvalidDataException($"the {adapters.Role}s lack {string.Join(", ", missing.Take(4))}{(missing.Count > 4 ? $" ({missing.Count} in all)" : "")}.");
    }
}
