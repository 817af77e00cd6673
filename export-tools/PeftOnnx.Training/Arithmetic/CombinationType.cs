namespace PeftOnnx.Training.Arithmetic;

/// <summary>
/// One of PEFT's <c>add_weighted_adapter</c> combination types (peft/tuners/lora/model.py): how the task tensors are
/// combined (<see cref="Merge"/>: linear = task_arithmetic, ties, dare_linear, dare_ties, magnitude_prune) and on what:
/// the lora_A and lora_B matrices separately (<c>_generalized_task_arithmetic_weighted_adapter</c>), the full deltas
/// re-factorised by a truncated SVD (the "_svd" types, <c>_svd_generalized_task_arithmetic_weighted_adapter</c>), or
/// neither: cat stacks the ranks.
/// </summary>
public sealed record CombinationType(string Name, string Merge, bool Svd)
{
    public static IReadOnlyList<CombinationType> All { get; } =
    [
        new("cat", "cat", false),
        new("linear", "linear", false),
        new("svd", "linear", true),
        new("ties", "ties", false),
        new("ties_svd", "ties", true),
        new("dare_linear", "dare_linear", false),
        new("dare_linear_svd", "dare_linear", true),
        new("dare_ties", "dare_ties", false),
        new("dare_ties_svd", "dare_ties", true),
        new("magnitude_prune", "magnitude_prune", false),
        new("magnitude_prune_svd", "magnitude_prune", true),
    ];

    public static IEnumerable<string> Names => All.Select(c => c.Name);

    /// <summary>Pruning types take --density.</summary>
    public bool UsesDensity => Merge is "ties" or "dare_linear" or "dare_ties" or "magnitude_prune";

    /// <summary>TIES types elect a sign per parameter (--majority-sign-method).</summary>
    public bool UsesMajoritySign => Merge is "ties" or "dare_ties";

    /// <summary>DARE types draw a random mask (--seed).</summary>
    public bool IsRandom => Merge is "dare_linear" or "dare_ties";

    /// <summary>The types that combine A and B element-wise need one rank (PEFT raises otherwise).</summary>
    public bool NeedsEqualRanks => !Svd && Merge != "cat";

    public static CombinationType Parse(string name) =>
        All.FirstOrDefault(c => c.Name == name)
        ?? throw new ArgumentException($"--method should be one of {string.Join(", ", Names)}, got \"{name}\".");

    /// <summary>Combines one task tensor per adapter with PEFT's merge function of this type.</summary>
    public double[] Combine(IReadOnlyList<double[]> tensors, IReadOnlyList<double> weights, double density, MajoritySignMethod sign, IReadOnlyList<DareMask> masks) => Merge switch
    {
        "linear" => TaskTensorMerge.TaskArithmetic(tensors, weights),
        "ties" => TaskTensorMerge.Ties(tensors, weights, density, sign),
        "dare_linear" => TaskTensorMerge.DareLinear(tensors, weights, density, masks),
        "dare_ties" => TaskTensorMerge.DareTies(tensors, weights, density, masks, sign),
        "magnitude_prune" => TaskTensorMerge.MagnitudePrune(tensors, weights, density),
        _ => throw new InvalidOperationException($"{Name} does not combine task tensors element-wise."),
    };

    public override string ToString() => Name;
}
