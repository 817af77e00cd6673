using Onnx;

namespace PeftOnnx.Onnx.Graph;

/// <summary>
/// The BERT embedding block of a torch export, found by its parameter names:
/// <code>
///   Shape(input_ids)[1] + past ─ Unsqueeze ─ ends ─┐
///   embeddings.position_ids ─ Slice(starts, ends) ─ position ids ─ Gather(position_embeddings) ─┐
///   Gather(word_embeddings, input_ids) ─ Add(Gather(token_type_embeddings, token_type_ids)) ─ Add ─ LayerNorm
/// </code>
/// </summary>
public sealed record EmbeddingSite(NodeProto WordGather, NodeProto TypeGather, NodeProto WordTypeAdd, NodeProto PositionSlice)
{
    public const string WordEmbeddings = "embeddings.word_embeddings.weight";
    public const string TokenTypeEmbeddings = "embeddings.token_type_embeddings.weight";
    public const string PositionIds = "embeddings.position_ids";

    public static EmbeddingSite Find(GraphIndex index)
    {
        ArgumentNullException.ThrowIfNull(index);
        var word = Gather(index, WordEmbeddings);
        var type = Gather(index, TokenTypeEmbeddings);
        var add = index.Consumers(word.Output[0]).FirstOrDefault(n => n.OpType == "Add" && n.Input.Contains(type.Output[0]))
            ?? throw Missing("the Add of the word and token-type embeddings");
        var slice = index.Consumers(PositionIds).FirstOrDefault(n => n.OpType == "Slice" && n.Input.Count >= 3)
            ?? throw Missing($"a Slice of {PositionIds} (position ids as a buffer sliced to the sequence length)");
        return new EmbeddingSite(word, type, add, slice);
    }

    private static NodeProto Gather(GraphIndex index, string table) =>
        index.Consumers(table).FirstOrDefault(n => n.OpType == "Gather" && n.Input[0] == table)
            ?? throw Missing($"a Gather of {table}");

    private static InvalidDataException Missing(string what) =>
        new($"embedding block: unhandled pattern, the graph has no {what}; virtual-token passes need a BERT export with named embedding parameters.");
}
