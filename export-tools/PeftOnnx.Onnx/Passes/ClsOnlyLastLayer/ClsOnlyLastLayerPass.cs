using Onnx;
using PeftOnnx.Onnx.Graph;
using PeftOnnx.Onnx.Passes.Patterns;
using static PeftOnnx.Onnx.Graph.OnnxNodes;
using static PeftOnnx.Onnx.Passes.Fusions.FusionPatterns;

namespace PeftOnnx.Onnx.Passes;

/// <summary>
/// A pooler head reads only h[:, 0] of the last layer, so the last layer computes only that row: its query, output
/// projection, residual, LayerNorms and feed-forward run on one token instead of S; keys and values still see every
/// token. About a sixth of a 6-layer encoder's work goes away; the outputs are the same up to float rounding.
/// <code>
///   x (B, S, H) ─ Q, K, V ─ attention ─ dense ─ Add(x) ─ LayerNorm ─ FFN ─ LayerNorm ─ Gather(h, 0, axis 1) ─ pooler
///   becomes
///   x ───────────── K, V (every token) ─┐
///   x[:, 0:1] ─ Q ─────────────────── attention ─ dense ─ Add(x[:, 0:1]) ─ LayerNorm ─ FFN ─ LayerNorm ─ Gather(h, 0, axis 1) ─ pooler
/// </code>
/// <list type="bullet">
/// <item>Plain projections (merged bundles): the keys and values are folded away too (<see cref="FoldedQueryAttention"/>).</item>
/// <item>Anything else that computes the query row by row (LoRA side-graphs, mixed adapter stacks) keeps its nodes;
/// the query branch reads x[:, 0:1] instead of x, and the reshapes, which take their shapes from the tensors they
/// reshape, follow. Keys and values stay as they are (prefix tuning's concatenated slots included). A second
/// attention's context added before the heads merge (gated prompts over constant rows) follows the query to one row.</item>
/// <item>Per-token values computed apart from the rows that the last layer reads, declared (batch, sequence, X) in a
/// value_info (LoReFT's position mask), are read at row 0: an intervention at the last layer edits row 0 only.</item>
/// </list>
/// The pass checks that everything after the attention block is per token and that only Gather(h, 0, axis=1) reads
/// the result; where the graph does not have that shape (mean pooling, the hidden states as an output) it leaves the
/// model alone and says why (the report's <see cref="PassReport.Unhandled"/>).
/// </summary>
public sealed class ClsOnlyLastLayerPass : IGraphPass
{
    internal const string Prefix = "cls_last_layer/";

    public string Name => "cls-only-last-layer";

    /// <summary>Collects the rewrite of the last layer when the graph allows it; the report says what happened either way.</summary>
    public PassReport Collect(GraphRewrite rewrite)
    {
        ArgumentNullException.ThrowIfNull(rewrite);
        return TryCollect(rewrite, out var reason)
            ? PassReport.Of(this, 1, $"last layer computes the [CLS] row only ({reason})")
            : PassReport.Of(this, 0, "left as is", [reason]);
    }

    /// <summary>True when the rewrite of the last layer was collected (<paramref name="reason"/> says how); otherwise nothing is and <paramref name="reason"/> says why.</summary>
    private static bool TryCollect(GraphRewrite rewrite, out string reason)
    {
        var graph = rewrite.Graph;
        var opset = rewrite.Opset;
        if (opset < 10)
        {
            reason = $"opset {opset} has no Slice with tensor inputs (10+)";
            return false;
        }
        var index = rewrite.Index;
        var core = graph.Node.Where(n => n.OpType == "Softmax").Select(n => AttentionCore.Match(index, n, out _)).LastOrDefault(c => c is not null);
        if (core is null)
        {
            reason = "no self-attention block (MatMul(q, k) / c + mask -> Softmax -> MatMul(v)) was found";
            return false;
        }
        var rows = new TokenRows(index);
        var block = SelfAttentionBlock.Match(index, core.Softmax, out _);
        if (block is not null && block.OnlyShapeReadersOutside(index) && FoldedQueryAttention.CanFold(index, block))
            return TryFold(rewrite, rows, block, out reason);
        return TrySliceQuery(rewrite, rows, core, out reason);
    }

    private static bool TryFold(GraphRewrite rewrite, TokenRows rows, SelfAttentionBlock block, out string reason)
    {
        var tail = rows.Tail(block.Output.Output[0], block.Input, out reason);
        if (tail is null)
            return false;
        var x0 = P("x0");
        Rename(rewrite, tail, block.Input, x0);
        SliceTokenAligned(rewrite, rows, tail, block.Input);
        rewrite.Replace(block.Nodes, block.Output, [.. FoldedQueryAttention.Build(rewrite.Index, block, x0, rewrite)]);
        rewrite.PruneDeadNodes();
        rewrite.ForgetShapes(tail.SelectMany(n => n.Output).Append(block.Output.Output[0]));
        reason = "keys and values folded into the query";
        return true;
    }

    /// <summary>The query branch reads row 0 of the layer input; the attention nodes stay and take their shapes from it.</summary>
    private static bool TrySliceQuery(GraphRewrite rewrite, TokenRows rows, AttentionCore core, out string reason)
    {
        var index = rewrite.Index;
        // Qh = Transpose(0,2,1,3)(Reshape(q, (B, S, N, D))): the scores' left operand.
        var heads = MatchParentPath(index, core.Scores, ["Transpose", "Reshape"], [0, 0]);
        if (heads is null || !SelfAttentionBlock.SameOrder(heads[0], [0, 2, 1, 3]))
        {
            reason = "the scores' query operand is not Transpose(0,2,1,3)(Reshape(q))";
            return false;
        }
        var (queryReshape, query) = (heads[1], heads[1].Input[0]);

        // The query branch: row-wise nodes from q back to the one value the keys also read, x (the layer input).
        var keySide = rows.Ancestors(core.Scores.Input[1]);
        var branch = new List<NodeProto>();
        var inBranch = new HashSet<NodeProto>(ReferenceEqualityComparer.Instance); // protobuf messages compare by value
        string? x = null;
        var pending = new Stack<string>([query]);
        var visited = new HashSet<string>(StringComparer.Ordinal);
        while (pending.TryPop(out var value))
        {
            if (!visited.Add(value) || !rows.IsSequential(value))
                continue; // weights, adapter factors: the same for every row
            if (keySide.Contains(value))
            {
                if (x is not null && x != value)
                {
                    reason = $"the query reads two values the keys also read ({x}, {value})";
                    return false;
                }
                x = value;
                continue;
            }
            if (index.Producer(value) is not { } producer)
            {
                reason = $"the query reads the graph input '{value}' directly";
                return false;
            }
            if (!inBranch.Add(producer))
                continue; // a node with several outputs in the branch
            branch.Add(producer);
            foreach (var input in producer.Input.Where(i => i.Length > 0))
                pending.Push(input);
        }
        if (x is null || branch.Count == 0)
        {
            reason = "the query does not come from the layer input the keys read";
            return false;
        }
        var branchValues = new HashSet<string>(branch.SelectMany(n => n.Output), StringComparer.Ordinal);
        if (branch.FirstOrDefault(n => !rows.IsRowwise(n, v => branchValues.Contains(v) || v == x)) is { } mixer)
        {
            reason = $"{GraphIndex.Describe(mixer)} ({mixer.OpType}) in the query branch is not a per-token operation";
            return false;
        }
        var inside = new HashSet<NodeProto>(branch, ReferenceEqualityComparer.Instance) { queryReshape };
        if (branchValues.SelectMany(index.Consumers).FirstOrDefault(c => !inside.Contains(c) && c.OpType != "Shape") is { } reader)
        {
            reason = $"{GraphIndex.Describe(reader)} reads the query branch from outside it";
            return false;
        }
        if (!rows.ShapeFollows(queryReshape.Input[1], query) || !rows.ShapeFollows(core.Output.Input[1], core.Merge.Output[0]))
        {
            reason = "a head reshape takes its shape from another tensor than the one it reshapes, so it would not follow one row";
            return false;
        }
        if (core.ExtraContext is { } extra && !FollowsQuery(rows, index, OtherInput(extra, core.Context.Output[0]), heads[0].Output[0], out reason))
            return false;
        var tail = rows.Tail(core.Output.Output[0], x, out reason);
        if (tail is null)
            return false;

        var x0 = P("x0");
        var mask0 = P("mask_row0");
        Rename(rewrite, branch, x, x0);
        Rename(rewrite, tail, x, x0);
        SliceTokenAligned(rewrite, rows, [.. branch, .. tail], x);
        rewrite.Edit(core.MaskAdd).Input[core.MaskAdd.Input.IndexOf(core.AdditiveMask)] = mask0;
        rewrite.Add(RowZero(rewrite, x, x0, axis: 1, "x0"));
        rewrite.Add(RowZero(rewrite, core.AdditiveMask, mask0, axis: 2, "mask")); // (B, 1, 1, S) stays; a per-query (B, 1, S, S) mask keeps row 0
        rewrite.ForgetShapes(branch.Concat(tail).SelectMany(n => n.Output).Concat(core.Scores.Output).Concat(core.Softmax.Output)
            .Concat(core.Context.Output).Concat(core.ExtraContext?.Output ?? []).Concat(core.Merge.Output).Concat(core.Output.Output).Concat(queryReshape.Output));
        reason = "query branch reads row 0";
        return true;
    }

    /// <summary>
    /// True when the extra context (B, heads, S, d) is computed from the query heads <paramref name="queryHeads"/> one
    /// query row at a time (MatMul by values that do not depend on the tokens, Softmax over the last axis, per-element
    /// ops with constants), so it has one row when the query has; otherwise <paramref name="reason"/> says what reads more.
    /// </summary>
    private static bool FollowsQuery(TokenRows rows, GraphIndex index, string? extra, string queryHeads, out string reason)
    {
        if (extra is null)
        {
            reason = "the Add after the attention context adds the context to itself";
            return false;
        }
        var pending = new Stack<string>([extra]);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (pending.TryPop(out var value))
        {
            if (value == queryHeads || !rows.IsSequential(value) || !seen.Add(value))
                continue;
            var producer = index.Producer(value);
            var perQueryRow = producer?.OpType switch
            {
                null => false,
                "Softmax" => Ints(producer, "axis") is null or [-1] or [3],
                _ => rows.IsRowwise(producer, rows.IsSequential),
            };
            if (!perQueryRow)
            {
                reason = $"the context added before the heads merge reads '{value}'{(producer is null ? "" : $" from {GraphIndex.Describe(producer)} ({producer.OpType})")}, not the query heads row by row";
                return false;
            }
            foreach (var input in producer!.Input.Where(i => i.Length > 0))
                pending.Push(input);
        }
        reason = "";
        return true;
    }

    /// <summary>
    /// <paramref name="nodes"/> (the last layer's row-0 computation) read row 0 of the token-aligned values they read
    /// beside the rows (<see cref="TokenRows.IsTokenAligned"/>): LoReFT's position mask keeps only [CLS]'s entry.
    /// </summary>
    private static void SliceTokenAligned(GraphRewrite rewrite, TokenRows rows, IReadOnlyCollection<NodeProto> nodes, string layerInput)
    {
        var made = nodes.SelectMany(n => n.Output).ToHashSet(StringComparer.Ordinal);
        var aligned = nodes.SelectMany(n => n.Input).Where(v => v != layerInput && !made.Contains(v) && rows.IsTokenAligned(v)).Distinct().ToList();
        for (var i = 0; i < aligned.Count; i++)
        {
            var row = P($"aligned{i}_row0");
            rewrite.Add(RowZero(rewrite, aligned[i], row, axis: 1, $"aligned{i}"));
            Rename(rewrite, nodes, aligned[i], row);
        }
    }

    /// <summary>output = input[..., 0:1, ...] along <paramref name="axis"/>; its constants go into <paramref name="rewrite"/>.</summary>
    internal static NodeProto RowZero(GraphRewrite rewrite, string input, string output, long axis, string name)
    {
        rewrite.AddInitializer(TensorData.FromInt64(P($"{name}_start"), [0], 1));
        rewrite.AddInitializer(TensorData.FromInt64(P($"{name}_end"), [1], 1));
        rewrite.AddInitializer(TensorData.FromInt64(P($"{name}_axis"), [axis], 1));
        return Node("Slice", P($"{name}_slice"), "", [input, P($"{name}_start"), P($"{name}_end"), P($"{name}_axis")], [output]);
    }

    /// <summary><paramref name="nodes"/> read <paramref name="to"/> where they read <paramref name="from"/>.</summary>
    private static void Rename(GraphRewrite rewrite, IEnumerable<NodeProto> nodes, string from, string to)
    {
        foreach (var node in nodes.Where(n => n.Input.Contains(from)))
        {
            var renamed = rewrite.Edit(node);
            for (var i = 0; i < renamed.Input.Count; i++)
            {
                if (renamed.Input[i] == from)
                    renamed.Input[i] = to;
            }
        }
    }

    private static string P(string name) => Prefix + name;
}
