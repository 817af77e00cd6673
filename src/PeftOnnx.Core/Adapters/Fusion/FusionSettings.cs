namespace PeftOnnx.Core.Adapters.Fusion;

/// <summary>
/// AdapterHub's <c>AdapterFusionConfig</c> (adapters/configuration/adapter_fusion_config.py), field for field; the
/// defaults are its "dynamic" preset (<c>DynamicAdapterFusionConfig</c>, the library's default). How each field acts:
/// <c>BertFusion</c> in adapters/methods/modeling.py, and docs/ADAPTER_FORMAT.md.
/// </summary>
public sealed record FusionSettings
{
    /// <summary>A key projection Linear(hidden, hidden) on each adapter's output.</summary>
    public bool Key { get; init; } = true;

    /// <summary>A query projection Linear(hidden, hidden) on the layer's hidden state.</summary>
    public bool Query { get; init; } = true;

    /// <summary>A value projection Linear(hidden, hidden, bias=False) on each adapter's output.</summary>
    public bool Value { get; init; } = true;

    /// <summary>
    /// Whether the query is read before the base LayerNorm. PeftOnnx's bottleneck adapters sit on the projection's output
    /// before the residual Add and LayerNorm (original_ln_before=False in AdapterHub's terms), where
    /// <c>Adapter.pre_forward</c> returns the same tensor either way: the flag is kept for the record and changes nothing.
    /// </summary>
    public bool QueryBeforeLn { get; init; }

    /// <summary>Adds 0.01·‖I − V‖² per fusion layer to the loss (<c>get_fusion_regularization_loss</c>).</summary>
    public bool Regularization { get; init; } = true;

    /// <summary>Adds the residual to the adapters' outputs before the attention (keys and values) instead of to its result;
    /// false in both presets, and the only value supported.</summary>
    public bool ResidualBefore { get; init; }

    /// <summary>AdapterHub's softmax temperature schedule (T from 50 down by 0.05 per forward call, to 1). Not supported:
    /// the schedule's state is not saved with the weights, so an exported model could not reproduce it.</summary>
    public bool Temperature { get; init; }

    /// <summary>V applied to the values before the weighted sum, or to the sum after. V has no bias and the weights sum
    /// to 1, so both give the same result; kept for the record.</summary>
    public bool ValueBeforeSoftmax { get; init; } = true;

    /// <summary>V starts at the identity (1 on the diagonal, 1e-6 elsewhere, as BertFusion writes it), so an untrained
    /// fusion passes the weighted mean of the adapters' outputs through.</summary>
    public bool ValueInitialized { get; init; } = true;

    /// <summary>Dropout on the attention scores during training; null takes the encoder's attention_probs_dropout_prob.</summary>
    public double? DropoutProb { get; init; }

    /// <summary>AdapterHub's "static" preset: no value matrix, no regularization.</summary>
    public static FusionSettings Static { get; } = new() { Value = false, Regularization = false, ValueInitialized = false };

    /// <summary>AdapterHub's "dynamic" preset (the default).</summary>
    public static FusionSettings Dynamic { get; } = new();
}
