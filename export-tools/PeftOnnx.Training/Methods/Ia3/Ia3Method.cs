using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Adapters.Ia3;
using PeftOnnx.Training.Encoder;

namespace PeftOnnx.Training.Methods.Ia3;

/// <summary>IA3: wraps each target Linear with a learned scaling vector (input scaling for feedforward_modules).</summary>
public sealed class Ia3Method : PeftMethod
{
    public static TrainerMethod Trainer { get; } = TrainerMethod.ForConfig<Ia3Config>(["ia3"], (_, s, _) => new Ia3Method(new Ia3Config
    {
        TargetModules = s.TargetModulesOr("key,value,output.dense"),
        FeedforwardModules = MethodSettings.Names(s.FeedForward),
    }), config => new Ia3Method(config)) with { LearningRate = 5e-3 };

    public Ia3Method(Ia3Config config)
    {
        config.Validate();
        Config = config;
    }

    public Ia3Config Config { get; }

    public override string Name => "ia3";

    protected override void Inject(BertForSequenceClassification model)
    {
        foreach (var (name, linear) in FindLinearTargets(model, Config.CreateMatcher(), Config.TargetModules!.ToString()))
            ModuleSurgery.Replace(model, name, new Ia3Linear(linear, Config.IsFeedforward(name["bert.".Length..])));
    }

    public override PeftAdapterConfig AdapterConfig(BertConfig config) => Config with { TaskType = TaskType, ModulesToSave = ModulesToSave };
}
