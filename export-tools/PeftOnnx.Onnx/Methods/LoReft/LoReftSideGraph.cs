using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Adapters.LoReft;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.OrtAdapters;
using PeftOnnx.Onnx.Methods.Lora;
using PeftOnnx.Onnx.Passes;
using PeftOnnx.Onnx.Side;

namespace PeftOnnx.Onnx.Methods.LoReft;

/// <summary>
/// LoReFT as a side graph (<see cref="LoReftPass"/>): at the union of the adapters' layers, two units per layer (prefix
/// and suffix positions; a tied adapter writes its one unit into both), rank = the highest adapter rank or --max-rank.
/// An adapter becomes (W − R)ᵀ, b and R per unit, zero-padded to the graph's rank, zeros at graph layers it does not
/// touch, and its positions [p, s]; so rows of one batch may use different LoReFT adapters (the mixed form).
/// </summary>
public sealed class LoReftSideGraph : ISideGraphMethod
{
    /// <summary>Deviation of R·Rᵀ from I above which an adapter is reported (still served up to <see cref="LoReftConfig.OrthonormalTolerance"/>).</summary>
    public const double OrthonormalWarning = 1e-5;

    public static LoReftSideGraph Method { get; } = new();

    public string PeftType => LoReftConfig.TypeName;

    public bool MixedBatches => true;

    public SideGraphManifest Build(SideGraphRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var layerCount = request.Map.LayerCount;
        var configs = request.Adapters.Select(a => (LoReftConfig)a.Config).ToList();
        var layers = configs.SelectMany(c => Layers(c, layerCount)).Distinct().Order().ToList();
        var rank = Math.Max(configs.Max(c => c.R), request.Options.MaxRank ?? 0);
        foreach (var adapter in request.Adapters)
        {
            var deviation = Units(adapter).Max(u => Deviation(u.R, u.Rank, u.Hidden));
            if (deviation > OrthonormalWarning)
                request.Progress?.Report($"warning: {adapter.Directory}: R is orthonormal only to {deviation:E2} (max |R·Rᵀ − I|); refused above {LoReftConfig.OrthonormalTolerance:E0}");
        }
        request.Progress?.Report($"adding LoReFT at the output of layers {string.Join(", ", layers)} (rank {rank}{(request.Mixed ? ", mixed batches" : "")})");
        var slots = request.Model.Applied(new LoReftPass(request.Map, layers, rank, request.Mixed ? MixedLoraPass.AdapterIndexInput : null)).Slots;
        return new SideGraphManifest
        {
            Form = request.Options.Form,
            PeftType = PeftType,
            BaseModel = request.BaseName,
            AdapterIndexInput = request.Mixed ? MixedLoraPass.AdapterIndexInput : null,
            Parameters = slots,
        };
    }

    public IEnumerable<OrtAdapterParameter> Parameters(PeftAdapter adapter, SideGraphManifest side, SideBaseWeights baseWeights)
    {
        ArgumentNullException.ThrowIfNull(adapter);
        ArgumentNullException.ThrowIfNull(side);
        var config = (LoReftConfig)adapter.Config;
        var projections = side.Parameters.Where(p => p.Name.EndsWith($".units.0.{LoReftConfig.Projection}", StringComparison.Ordinal)).ToList();
        if (projections.Count == 0)
            throw new InvalidDataException($"{adapter.Directory} is a LoReFT adapter, but this side graph has no LoReFT inputs.");
        var graphLayers = projections.Select(p => LayerOf(p.Name)).ToList();
        var (rank, hidden) = ((int)projections[0].Shape[0], (int)projections[0].Shape[1]);
        if (config.R > rank)
            throw new InvalidDataException($"{adapter.Directory} has LoReFT rank {config.R}, above this bundle's rank {rank}; re-export the bundle with --max-rank {config.R} or more.");
        var units = Units(adapter).ToDictionary(u => (Layer: u.Layer, Unit: u.Unit));
        var extra = units.Keys.Select(k => k.Layer).Distinct().Where(l => !graphLayers.Contains(l)).Order().ToList();
        if (extra.Count > 0)
            throw new InvalidDataException($"{adapter.Directory} intervenes at layer(s) {string.Join(", ", extra)}, which have no LoReFT input in this bundle (it has layers {string.Join(", ", graphLayers)}); export the bundle with this adapter.");
        if (config.TiedWeights && units.Keys.Where(k => k.Unit == 1).Select(k => k.Layer).DefaultIfEmpty(-1).First() is >= 0 and var tiedLayer)
            throw new InvalidDataException($"{adapter.Directory} sets tied_weights but holds {LoReftConfig.UnitModule(tiedLayer, 1)}.*; a tied adapter has unit 0 only.");
        var adapterLayers = units.Keys.Select(k => k.Layer).ToHashSet();
        yield return OrtAdapterParameter.FromFloat32(LoReftPass.PositionsName, [config.PrefixPositions, config.SuffixPositions], 2);
        foreach (var layer in graphLayers)
        {
            foreach (var unit in new[] { 0, 1 })
            {
                var module = LoReftConfig.UnitModule(layer, unit);
                var delta = new float[hidden * rank];
                var bias = new float[rank];
                var projection = new float[rank * hidden];
                if (adapterLayers.Contains(layer))
                {
                    if (!units.TryGetValue((layer, config.TiedWeights ? 0 : unit), out var source))
                        throw new InvalidDataException($"{adapter.Directory} lacks {LoReftConfig.UnitModule(layer, config.TiedWeights ? 0 : unit)}.*, which its config (layers, tied_weights) says it has.");
                    if (source.Hidden != hidden)
                        throw new InvalidDataException($"{adapter.Directory}: {module} works on hidden size {source.Hidden}, this bundle's base has {hidden}; the adapter was made for another base model.");
                    var deviation = Deviation(source.R, source.Rank, hidden);
                    if (deviation > LoReftConfig.OrthonormalTolerance)
                        throw new InvalidDataException($"{adapter.Directory}: R of {module} is not orthonormal: max |R·Rᵀ − I| = {deviation:E2}, above the tolerance {LoReftConfig.OrthonormalTolerance:E0}; LoReFT's edit is a projection only for orthonormal R. Re-train or re-orthonormalise the adapter.");
                    for (var k = 0; k < source.Rank; k++)
                    {
                        bias[k] = (float)source.B[k];
                        for (var h = 0; h < hidden; h++)
                        {
                            delta[h * rank + k] = (float)(source.W[k * hidden + h] - source.R[k * hidden + h]); // (W − R)ᵀ [H, rank]
                            projection[k * hidden + h] = (float)source.R[k * hidden + h];
                        }
                    }
                }
                yield return OrtAdapterParameter.FromFloat32($"{module}.{LoReftPass.SourceDelta}", delta, hidden, rank);
                yield return OrtAdapterParameter.FromFloat32($"{module}.{LoReftConfig.SourceBias}", bias, rank);
                yield return OrtAdapterParameter.FromFloat32($"{module}.{LoReftConfig.Projection}", projection, rank, hidden);
            }
        }
    }

    /// <summary>max |R·Rᵀ − I| in float64 for R [rank, hidden] row-major.</summary>
    public static double Deviation(double[] r, int rank, int hidden)
    {
        ArgumentNullException.ThrowIfNull(r);
        var worst = 0.0;
        for (var i = 0; i < rank; i++)
        {
            for (var j = 0; j < rank; j++)
            {
                var dot = 0.0;
                for (var h = 0; h < hidden; h++)
                    dot += r[i * hidden + h] * r[j * hidden + h];
                worst = Math.Max(worst, Math.Abs(dot - (i == j ? 1 : 0)));
            }
        }
        return worst;
    }

    private static IEnumerable<int> Layers(LoReftConfig config, int layerCount) => config.LayersOf(layerCount);

    /// <summary>Every unit the adapter holds, its three tensors checked: R and W [r, hidden], b [r], finite.</summary>
    private static IEnumerable<(int Layer, int Unit, double[] R, double[] W, double[] B, int Rank, int Hidden)> Units(PeftAdapter adapter)
    {
        var config = (LoReftConfig)adapter.Config;
        foreach (var group in adapter.Tensors.Where(t => t.Key.InEncoder).GroupBy(t => t.Key.Module, StringComparer.Ordinal))
        {
            var (layer, unit) = UnitOf(group.Key);
            if (layer < 0)
                throw new InvalidDataException($"{adapter.Directory}: tensor {group.First().Name} is not a LoReFT tensor (expected encoder.layer.N.reft.units.U.{{{LoReftConfig.Projection}, {LoReftConfig.SourceWeight}, {LoReftConfig.SourceBias}}}).");
            AdapterTensor Get(string parameter) => group.FirstOrDefault(t => t.Key.Parameter == parameter)
                ?? throw new InvalidDataException($"{adapter.Directory} lacks {group.Key}.{parameter}.");
            var (r, w, b) = (Get(LoReftConfig.Projection), Get(LoReftConfig.SourceWeight), Get(LoReftConfig.SourceBias));
            if (r.Shape.Length != 2 || r.Shape[0] != config.R || !w.Shape.SequenceEqual(r.Shape) || !b.Shape.SequenceEqual(new[] { r.Shape[0] }))
                throw new InvalidDataException($"{adapter.Directory}: {group.Key} has R {r.ShapeText}, W {w.ShapeText}, b {b.ShapeText}; r = {config.R} needs R and W [{config.R}, hidden] and b [{config.R}].");
            foreach (var t in new[] { r, w, b })
                FiniteValues.Require(t.Data, $"adapter tensor {t.Name}");
            yield return (layer, unit, r.Data, w.Data, b.Data, (int)r.Shape[0], (int)r.Shape[1]);
        }
    }

    /// <summary>(layer, unit) of "encoder.layer.N.reft.units.U", or (-1, -1).</summary>
    private static (int Layer, int Unit) UnitOf(string module)
    {
        var parts = module.Split('.');
        return parts is ["encoder", "layer", var l, "reft", "units", var u] && int.TryParse(l, out var layer) && int.TryParse(u, out var unit) && layer >= 0 && unit is 0 or 1
            ? (layer, unit)
            : (-1, -1);
    }

    private static int LayerOf(string slotName) => UnitOf(slotName[..slotName.IndexOf(".reft.units.0.", StringComparison.Ordinal)] + ".reft.units.0").Layer;
}
