using System.CommandLine;
using PeftOnnx.Cli.Commands.Common;
using PeftOnnx.Training.Encoder;
using PeftOnnx.Training.Methods;

namespace PeftOnnx.Export.Cli.Commands.Train;

/// <summary>The --method option (its choices from the <see cref="PeftMethods"/> registry) and the hyper-parameters, turned into a <see cref="PeftMethod"/>.</summary>
internal sealed class MethodOptions
{
    public Option<string> Method { get; } = new Option<string>("--method") { Description = $"{string.Join(", ", PeftMethods.Names)} (probe: pooler + classifier; full: every weight).", DefaultValueFactory = _ => "lora" }.WithLegacyAlias("-m");
    public Option<int> Rank { get; } = new("--r") { Description = "LoRA/DoRA rank, LoReFT rank (1..8 typical).", DefaultValueFactory = _ => 8 };
    public Option<double?> Alpha { get; } = new("--alpha") { Description = "LoRA/DoRA alpha (default 2·r)." };
    public Option<double> Dropout { get; } = new("--lora-dropout") { Description = "LoRA/DoRA dropout.", DefaultValueFactory = _ => 0.1 };
    public Option<bool> RsLora { get; } = new("--rslora") { Description = "Scale LoRA by alpha/sqrt(r) instead of alpha/r." };
    public Option<string?> Targets { get; } = new("--targets") { Description = "Comma-separated target modules (LoRA/DoRA default query,value; IA3 default key,value,output.dense), or all-linear." };
    public Option<string> FeedForward { get; } = new("--feedforward") { Description = "IA3 feed-forward modules (input scaling).", DefaultValueFactory = _ => "output.dense" };
    public Option<int> ReductionFactor { get; } = new("--reduction-factor") { Description = "Bottleneck width = hidden / this (houlsby, pfeiffer).", DefaultValueFactory = _ => 16 };
    public Option<string> NonLinearity { get; } = new("--non-linearity") { Description = "Bottleneck non-linearity: relu, gelu, swish, tanh.", DefaultValueFactory = _ => "relu" };
    public Option<int> VirtualTokens { get; } = new("--virtual-tokens") { Description = "Prompt/prefix tuning: number of virtual tokens.", DefaultValueFactory = _ => 20 };
    public Option<string> Layers { get; } = new("--layers") { Description = "LoReFT: intervened layers; LoRA/DoRA: layers_to_transform (adapters only in the upper layers let a parallel bundle share the lower ones). all or indices like 0,2,4.", DefaultValueFactory = _ => "all" };
    public Option<string> Positions { get; } = new("--positions") { Description = "LoReFT: positions as f<first>+l<last> real tokens, e.g. f1+l1.", DefaultValueFactory = _ => "f1+l1" };
    public Option<bool> Tied { get; } = new("--tied") { Description = "LoReFT: one intervention per layer for the first and last positions." };
    public Option<int> PromptLength { get; } = new("--prompt-length") { Description = "Gated prompts: prompt vectors per layer.", DefaultValueFactory = _ => 10 };
    public Option<int> PromptLayers { get; } = new("--prompt-layers") { Description = "Gated prompts: how many top layers carry prompts.", DefaultValueFactory = _ => 6 };
    public Option<string?> Adapters { get; } = new("--adapters") { Description = "Fusion: comma-separated bottleneck adapter folders to fuse (at least 2, one base, one variant)." };
    public Option<string?> StackOn { get; } = new("--stack-on") { Description = "Stack (houlsby, pfeiffer): train the new adapter on top of this frozen bottleneck adapter folder (comma-separated, bottom first; same base and variant)." };

    public IEnumerable<Option> All => [Method, Rank, Alpha, Dropout, RsLora, Targets, FeedForward, ReductionFactor, NonLinearity, VirtualTokens, Layers, Positions, Tied, PromptLength, PromptLayers, Adapters, StackOn];

    public MethodOptions() => Method.AcceptOnlyFromAmong([.. PeftMethods.Names]);

    /// <summary>The learning rate used when --lr is not given (the method's registration).</summary>
    public static double DefaultLearningRate(string method) => PeftMethods.DefaultLearningRate(method);

    public PeftMethod Create(ParseResult p, BertConfig encoder) => PeftMethods.Create(p.GetValue(Method)!, new MethodSettings
    {
        Rank = p.GetValue(Rank),
        Alpha = p.GetValue(Alpha),
        Dropout = p.GetValue(Dropout),
        RsLora = p.GetValue(RsLora),
        Targets = p.GetValue(Targets),
        FeedForward = p.GetValue(FeedForward)!,
        ReductionFactor = p.GetValue(ReductionFactor),
        NonLinearity = p.GetValue(NonLinearity)!,
        VirtualTokens = p.GetValue(VirtualTokens),
        Layers = p.GetValue(Layers)!,
        Positions = p.GetValue(Positions)!,
        Tied = p.GetValue(Tied),
        PromptLength = p.GetValue(PromptLength),
        PromptLayers = p.GetValue(PromptLayers),
        Adapters = Folders(p.GetValue(Adapters)),
        StackOn = Folders(p.GetValue(StackOn)),
    }, encoder);

    private static string[] Folders(string? commaSeparated) => [.. (commaSeparated ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
}
