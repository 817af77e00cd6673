using System.Text.Json.Nodes;
using PeftOnnx.Training.Encoder;

namespace PeftOnnx.Training.Methods.Ia3;

/// <summary>IA3: wraps each target Linear with a learned scaling vector.</summary>
public sealed class Ia3Method(Ia3Config config) : PeftMethod
{
    public Ia3Config Config { get; } = config;

    public override string Name => "ia3";

    public override string PeftType => "IA3";

    protected override void Inject(BertForSequenceClassification model)
    {
        Config.Validate();
        foreach (var (name, linear) in FindLinearTargets(model, Config.TargetModules))
        {
            var feedforward = Config.FeedforwardModules.Any(f => ModuleSurgery.Matches(name, f));
            ModuleSurgery.Replace(model, name, new Ia3Linear(linear, feedforward));
        }
    }

    public override JsonObject ConfigFields(BertConfig config) => new()
    {
        ["target_modules"] = new JsonArray([.. Config.TargetModules.Select(t => JsonValue.Create(t))]),
        ["feedforward_modules"] = new JsonArray([.. Config.FeedforwardModules.Select(t => JsonValue.Create(t))]),
        ["fan_in_fan_out"] = false,
        ["init_ia3_weights"] = true,
    };
}
