using System.CommandLine;
using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Adapters.Bottleneck;
using PeftOnnx.Core.Adapters.Ia3;
using PeftOnnx.Core.Adapters.Lora;
using PeftOnnx.Training.Encoder;
using PeftOnnx.Training.Methods;
using PeftOnnx.Training.Methods.Baselines;
using PeftOnnx.Training.Methods.Bottleneck;
using PeftOnnx.Training.Methods.Ia3;
using PeftOnnx.Training.Methods.Lora;
using PeftOnnx.Training.Methods.PrefixTuning;
using PeftOnnx.Training.Methods.PromptTuning;

namespace PeftOnnx.Export.Cli.Commands.Train;

/// <summary>The --method option and the per-method hyper-parameters, turned into a <see cref="PeftMethod"/>.</summary>
internal sealed class MethodOptions
{
    public static readonly string[] Methods = ["lora", "dora", "ia3", "houlsby", "pfeiffer", "prompt", "prefix", "probe", "full"];

    public Option<string> Method { get; } = new("--method", "-m") { Description = "lora, dora, ia3, houlsby, pfeiffer, prompt, prefix, probe (pooler + classifier) or full.", DefaultValueFactory = _ => "lora" };
    public Option<int> Rank { get; } = new("--r") { Description = "LoRA/DoRA rank.", DefaultValueFactory = _ => 8 };
    public Option<double?> Alpha { get; } = new("--alpha") { Description = "LoRA/DoRA alpha (default 2·r)." };
    public Option<double> Dropout { get; } = new("--lora-dropout") { Description = "LoRA/DoRA dropout.", DefaultValueFactory = _ => 0.1 };
    public Option<bool> RsLora { get; } = new("--rslora") { Description = "Scale LoRA by alpha/sqrt(r) instead of alpha/r." };
    public Option<string?> Targets { get; } = new("--targets") { Description = "Comma-separated target modules (LoRA/DoRA default query,value; IA3 default key,value,output.dense), or all-linear." };
    public Option<string> FeedForward { get; } = new("--feedforward") { Description = "IA3 feed-forward modules (input scaling).", DefaultValueFactory = _ => "output.dense" };
    public Option<int> ReductionFactor { get; } = new("--reduction-factor") { Description = "Bottleneck width = hidden / this (houlsby, pfeiffer).", DefaultValueFactory = _ => 16 };
    public Option<string> NonLinearity { get; } = new("--non-linearity") { Description = "Bottleneck non-linearity: relu, gelu, swish, tanh.", DefaultValueFactory = _ => "relu" };
    public Option<int> VirtualTokens { get; } = new("--virtual-tokens") { Description = "Prompt/prefix tuning: number of virtual tokens.", DefaultValueFactory = _ => 20 };

    public IEnumerable<Option> All => [Method, Rank, Alpha, Dropout, RsLora, Targets, FeedForward, ReductionFactor, NonLinearity, VirtualTokens];

    public MethodOptions() => Method.AcceptOnlyFromAmong(Methods);

    /// <summary>The learning rate used when --lr is not given (the reference runs' rates).</summary>
    public static double DefaultLearningRate(string method) => method switch
    {
        "full" => 5e-5,
        "probe" => 2e-3,
        "ia3" => 5e-3,
        "prompt" or "prefix" => 1e-2,
        _ => 1e-3,
    };

    public PeftMethod Create(ParseResult p, BertConfig encoder)
    {
        var name = p.GetValue(Method)!;
        var targets = p.GetValue(Targets);
        TargetModules Parse(string fallback)
        {
            var text = string.IsNullOrWhiteSpace(targets) ? fallback : targets;
            return text == TargetModules.AllLinear ? TargetModules.FromPattern(text) : TargetModules.FromNames(text.Split(',').Select(t => t.Trim()).Where(t => t.Length > 0));
        }
        var r = p.GetValue(Rank);
        return name switch
        {
            "lora" or "dora" => new LoraMethod(new LoraConfig
            {
                R = r,
                LoraAlpha = p.GetValue(Alpha) ?? 2.0 * r,
                LoraDropout = p.GetValue(Dropout),
                TargetModules = Parse("query,value"),
                UseRslora = p.GetValue(RsLora),
                UseDora = name == "dora",
            }),
            "ia3" => new Ia3Method(new Ia3Config
            {
                TargetModules = Parse("key,value,output.dense"),
                FeedforwardModules = TargetModules.FromNames(p.GetValue(FeedForward)!.Split(',').Select(t => t.Trim())),
            }),
            "houlsby" or "pfeiffer" => new BottleneckMethod(new BottleneckConfig
            {
                Variant = name,
                ReductionFactor = p.GetValue(ReductionFactor),
                NonLinearity = p.GetValue(NonLinearity)!,
            }),
            "prompt" => new PromptTuningMethod(PromptTuningMethod.ConfigFor(encoder, p.GetValue(VirtualTokens))),
            "prefix" => new PrefixTuningMethod(PrefixTuningMethod.ConfigFor(encoder, p.GetValue(VirtualTokens))),
            "probe" => new LinearProbeMethod(),
            "full" => new FullFineTuningMethod(),
            _ => throw new ArgumentException($"--method '{name}' is not one of {string.Join(", ", Methods)}."),
        };
    }
}
