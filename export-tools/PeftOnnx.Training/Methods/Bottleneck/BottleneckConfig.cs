namespace PeftOnnx.Training.Methods.Bottleneck;

/// <summary>Where bottleneck adapters go in each layer.</summary>
public enum BottleneckPlacement
{
    /// <summary>Houlsby et al. 2019: after the attention output projection and after the feed-forward output projection.</summary>
    Houlsby,

    /// <summary>Pfeiffer et al. 2021 (AdapterFusion): after the feed-forward output projection only.</summary>
    Pfeiffer,
}

/// <summary>Bottleneck adapter hyper-parameters (no PEFT equivalent; written with peft_type BOTTLENECK).</summary>
public sealed record BottleneckConfig
{
    public BottleneckPlacement Placement { get; init; } = BottleneckPlacement.Houlsby;
    /// <summary>hidden / bottleneck width: 16 turns 384 into 24.</summary>
    public int ReductionFactor { get; init; } = 16;
    /// <summary>relu, gelu, tanh or swish.</summary>
    public string NonLinearity { get; init; } = "relu";

    public static readonly IReadOnlyList<string> KnownNonLinearities = ["relu", "gelu", "tanh", "swish"];

    public void Validate(int hiddenSize)
    {
        if (ReductionFactor <= 0 || ReductionFactor > hiddenSize)
            throw new ArgumentException($"`reduction_factor` should be in 1..{hiddenSize} (the hidden size), got {ReductionFactor}.");
        if (!KnownNonLinearities.Contains(NonLinearity))
            throw new ArgumentException($"`non_linearity` '{NonLinearity}' is not one of {string.Join(", ", KnownNonLinearities)}.");
    }
}
