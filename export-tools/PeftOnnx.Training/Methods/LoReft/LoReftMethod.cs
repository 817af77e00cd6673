using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Adapters.LoReft;
using PeftOnnx.Training.Encoder;

namespace PeftOnnx.Training.Methods.LoReft;

/// <summary>
/// LoReFT, PeftOnnx's peft_type LOREFT (docs/ADAPTER_FORMAT.md): keys
/// base_model.model.bert.encoder.layer.N.reft.units.U.{projection.weight, learned_source.weight, learned_source.bias}.
/// </summary>
public sealed class LoReftMethod : PeftMethod
{
    /// <summary>The registration: --method loreft --r --layers --positions --tied.</summary>
    public static TrainerMethod Trainer { get; } = TrainerMethod.ForConfig<LoReftConfig>(["loreft"], (_, s, _) => new LoReftMethod(ConfigFrom(s)), config => new LoReftMethod(config)) with { LearningRate = 3e-3 };

    public LoReftMethod(LoReftConfig config)
    {
        config.Validate();
        Config = config;
    }

    public LoReftConfig Config { get; }

    public override string Name => "loreft";

    protected override void Inject(BertForSequenceClassification model)
    {
        var c = model.Bert.Config;
        if (Config.PrefixPositions + Config.SuffixPositions > c.MaxPositionEmbeddings)
            throw new ArgumentException($"LoReFT positions f{Config.PrefixPositions}+l{Config.SuffixPositions} cover {Config.PrefixPositions + Config.SuffixPositions} tokens, beyond the {c.MaxPositionEmbeddings} the encoder can see.");
        foreach (var layer in Config.LayersOf(c.NumHiddenLayers))
        {
            var block = (BertLayer)ModuleSurgery.Get(model, $"bert.encoder.layer.{layer}");
            block.Intervene(new LoReftIntervention(c.HiddenSize, Config.R, Config.PrefixPositions, Config.SuffixPositions, Config.TiedWeights, Config.Dropout));
        }
    }

    public override PeftAdapterConfig AdapterConfig(BertConfig config) => Config with { TaskType = TaskType, ModulesToSave = ModulesToSave };

    /// <summary>The config for --r, --layers ("all" or "0,2,4"), --positions ("f1+l1", "f2", "l1") and --tied.</summary>
    public static LoReftConfig ConfigFrom(MethodSettings s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var (prefix, suffix) = ParsePositions(s.Positions);
        return new LoReftConfig { R = s.Rank, Layers = ParseLayers(s.Layers), PrefixPositions = prefix, SuffixPositions = suffix, TiedWeights = s.Tied };
    }

    public static IReadOnlyList<int>? ParseLayers(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Trim() == "all")
            return null;
        return [.. text.Split(',').Select(t => int.TryParse(t.Trim(), out var layer) && layer >= 0
            ? layer
            : throw new ArgumentException($"--layers should be \"all\" or layer indices like 0,2,4, got \"{text}\" (bad entry \"{t.Trim()}\")."))];
    }

    /// <summary>"f1+l1" -> (1, 1); "f2" -> (2, 0); "l3" -> (0, 3), as pyreft's --position.</summary>
    public static (int Prefix, int Suffix) ParsePositions(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var (prefix, suffix) = (0, 0);
        foreach (var part in text.Split('+').Select(p => p.Trim()))
        {
            if (part.Length < 2 || part[0] is not ('f' or 'l') || !int.TryParse(part[1..], out var n) || n <= 0)
                throw new ArgumentException($"--positions should look like f1+l1 (first and last real tokens), got \"{text}\" (bad part \"{part}\").");
            if (part[0] == 'f')
                prefix = n;
            else
                suffix = n;
        }
        return (prefix, suffix);
    }
}
