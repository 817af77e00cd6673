namespace PeftOnnx.Training.Arithmetic;

/// <summary>How TIES elects the sign of each parameter (PEFT's <c>majority_sign_method</c>).</summary>
public enum MajoritySignMethod
{
    /// <summary>The sign of the sum of the (pruned, unweighted) task tensors.</summary>
    Total,

    /// <summary>The sign held by more task tensors (a tie counts as +).</summary>
    Frequency,
}

/// <summary>
/// Hugging Face PEFT's task-tensor merges (peft/utils/merge_utils.py: <c>magnitude_based_pruning</c>,
/// <c>random_pruning</c>, <c>calculate_majority_sign_mask</c>, <c>disjoint_merge</c>, <c>task_arithmetic</c>,
/// <c>magnitude_prune</c>, <c>ties</c>, <c>dare_linear</c>, <c>dare_ties</c>) in float64. A task tensor is one flat
/// array; all tensors of one call have the same length.
/// </summary>
public static class TaskTensorMerge
{
    /// <summary>Σ w_i·t_i (<c>task_arithmetic</c>).</summary>
    public static double[] TaskArithmetic(IReadOnlyList<double[]> tensors, IReadOnlyList<double> weights) =>
        WeightedSum(Check(tensors, weights), weights);

    /// <summary>Σ w_i·prune_magnitude(t_i) (<c>magnitude_prune</c>).</summary>
    public static double[] MagnitudePrune(IReadOnlyList<double[]> tensors, IReadOnlyList<double> weights, double density) =>
        WeightedSum([.. Check(tensors, weights).Select(t => MagnitudePruned(t, density))], weights);

    /// <summary>Trim by magnitude, elect signs, disjoint mean (<c>ties</c>).</summary>
    public static double[] Ties(IReadOnlyList<double[]> tensors, IReadOnlyList<double> weights, double density, MajoritySignMethod method) =>
        ElectAndMerge([.. Check(tensors, weights).Select(t => MagnitudePruned(t, density))], weights, method);

    /// <summary>Σ w_i·(random keep with probability density, rescaled by 1/density)(t_i) (<c>dare_linear</c>).</summary>
    public static double[] DareLinear(IReadOnlyList<double[]> tensors, IReadOnlyList<double> weights, double density, IReadOnlyList<DareMask> masks) =>
        WeightedSum([.. Check(tensors, weights).Select((t, i) => RandomPruned(t, density, masks[i]))], weights);

    /// <summary>DARE's random pruning, then TIES' sign election and disjoint mean (<c>dare_ties</c>).</summary>
    public static double[] DareTies(IReadOnlyList<double[]> tensors, IReadOnlyList<double> weights, double density, IReadOnlyList<DareMask> masks, MajoritySignMethod method) =>
        ElectAndMerge([.. Check(tensors, weights).Select((t, i) => RandomPruned(t, density, masks[i]))], weights, method);

    /// <summary>
    /// <c>magnitude_based_pruning</c>: keeps the k = int(density·n) largest |t| and zeroes the rest. Among equal
    /// magnitudes at the cut the lower index is kept (torch.topk leaves that order unspecified). <c>prune</c>
    /// returns the tensor unchanged for density ≥ 1.
    /// </summary>
    public static double[] MagnitudePruned(double[] tensor, double density)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (density >= 1)
            return tensor;
        var k = (int)(density * tensor.Length); // Python's int() truncates like the cast
        var order = Enumerable.Range(0, tensor.Length).ToArray();
        Array.Sort(order, (x, y) =>
        {
            var byMagnitude = Math.Abs(tensor[y]).CompareTo(Math.Abs(tensor[x]));
            return byMagnitude != 0 ? byMagnitude : x.CompareTo(y);
        });
        var pruned = new double[tensor.Length];
        foreach (var i in order.AsSpan(0, k))
            pruned[i] = tensor[i];
        return pruned;
    }

    /// <summary><c>random_pruning(rescale=True)</c>: t·mask/density, the mask from <paramref name="mask"/>; unchanged for density ≥ 1.</summary>
    public static double[] RandomPruned(double[] tensor, double density, DareMask mask)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (density >= 1)
            return tensor;
        var pruned = new double[tensor.Length];
        for (var i = 0; i < tensor.Length; i++)
            pruned[i] = mask.Keeps(i, density) ? tensor[i] / density : 0;
        return pruned;
    }

    /// <summary>
    /// <c>calculate_majority_sign_mask</c>: majority = +1 where the total (or the count of signs) is ≥ 0, else -1;
    /// mask[i][j] = sign(t_i[j]) == majority[j], so zeros never count.
    /// </summary>
    public static bool[][] MajoritySignMask(IReadOnlyList<double[]> tensors, MajoritySignMethod method)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var length = tensors[0].Length;
        var masks = tensors.Select(_ => new bool[length]).ToArray();
        for (var j = 0; j < length; j++)
        {
            var magnitude = 0.0;
            foreach (var t in tensors)
                magnitude += method == MajoritySignMethod.Total ? t[j] : Math.Sign(t[j]);
            var majority = magnitude >= 0 ? 1 : -1;
            for (var i = 0; i < tensors.Count; i++)
                masks[i][j] = Math.Sign(tensors[i][j]) == majority;
        }
        return masks;
    }

    /// <summary><c>disjoint_merge</c>: Σ_i t_i·mask_i / max(Σ_i mask_i, 1).</summary>
    public static double[] DisjointMerge(IReadOnlyList<double[]> weighted, bool[][] masks)
    {
        ArgumentNullException.ThrowIfNull(weighted);
        ArgumentNullException.ThrowIfNull(masks);
        var merged = new double[weighted[0].Length];
        for (var j = 0; j < merged.Length; j++)
        {
            var (sum, kept) = (0.0, 0);
            for (var i = 0; i < weighted.Count; i++)
            {
                if (masks[i][j])
                    (sum, kept) = (sum + weighted[i][j], kept + 1);
            }
            merged[j] = sum / Math.Max(kept, 1);
        }
        return merged;
    }

    // ties / dare_ties: the signs are elected on the pruned tensors before the weights are applied, as PEFT does.
    private static double[] ElectAndMerge(double[][] pruned, IReadOnlyList<double> weights, MajoritySignMethod method)
    {
        var masks = MajoritySignMask(pruned, method);
        var weighted = pruned.Select((t, i) => t.Select(v => v * weights[i]).ToArray()).ToArray();
        return DisjointMerge(weighted, masks);
    }

    private static double[] WeightedSum(IReadOnlyList<double[]> tensors, IReadOnlyList<double> weights)
    {
        var sum = new double[tensors[0].Length];
        for (var i = 0; i < tensors.Count; i++)
        {
            for (var j = 0; j < sum.Length; j++)
                sum[j] += tensors[i][j] * weights[i];
        }
        return sum;
    }

    private static IReadOnlyList<double[]> Check(IReadOnlyList<double[]> tensors, IReadOnlyList<double> weights)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentNullException.ThrowIfNull(weights);
        if (tensors.Count == 0 || tensors.Count != weights.Count)
            throw new ArgumentException($"{tensors.Count} task tensors but {weights.Count} weights; give one weight per tensor (at least one).", nameof(weights));
        if (tensors.Any(t => t.Length != tensors[0].Length))
            throw new ArgumentException($"task tensors differ in size ({string.Join(", ", tensors.Select(t => t.Length))}); they must have one shape.", nameof(tensors));
        return tensors;
    }
}
