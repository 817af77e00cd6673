using PeftOnnx.Core.Adapters.Fusion;
using PeftOnnx.Training.Encoder;
using PeftOnnx.Training.TrainingLoop;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Methods.Fusion;

/// <summary>
/// AdapterHub's <c>BertFusion</c> (adapters/methods/modeling.py): an attention over N adapters' outputs at each token,
/// <c>softmax(Q(h)·K(u_k))</c> weighting <c>V(u_k)</c>, plus the residual. Fields named as theirs (query, key, value),
/// initialised as theirs (<c>init_bert_weights</c>: N(0, 0.02), zero bias; V = I + 1e-6 off the diagonal).
/// </summary>
public sealed class AdapterFusionLayer : nn.Module, IRegularizedModule
{
    // AdapterHub's get_fusion_regularization_loss: 0.01 · Σ (I − V)².
    private const double RegularizationWeight = 0.01;

    private readonly Linear? query;
    private readonly Linear? key;
    private readonly Linear? value;
    private readonly FusionSettings settings;
    private readonly double dropoutProb;

    public AdapterFusionLayer(int hidden, FusionSettings settings, double dropoutProb) : base(nameof(AdapterFusionLayer))
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Temperature || settings.ResidualBefore)
            throw new ArgumentException("fusion.temperature and fusion.residual_before are not supported (FusionConfig.Validate says why).", nameof(settings));
        this.settings = settings;
        this.dropoutProb = dropoutProb;
        using (no_grad())
        {
            if (settings.Query)
                query = BertInit(nn.Linear(hidden, hidden));
            if (settings.Key)
                key = BertInit(nn.Linear(hidden, hidden));
            if (settings.Value)
            {
                value = BertInit(nn.Linear(hidden, hidden, hasBias: false));
                if (settings.ValueInitialized)
                {
                    using var identity = eye(hidden);
                    value.weight!.copy_(identity + (1 - identity) * 1e-6f);
                }
            }
        }
        RegisterComponents();
    }

    /// <param name="h">The layer's hidden state (B, T, H): the query, and the residual.</param>
    /// <param name="ups">The adapters' outputs before their residual (B, T, N, H): keys and values.</param>
    public Tensor Fuse(Tensor h, Tensor ups)
    {
        using var scope = NewDisposeScope();
        var q = query?.forward(h) ?? h; // (B, T, H)
        var k = key?.forward(ups) ?? ups; // (B, T, N, H)
        var v = value?.forward(ups) ?? ups; // (B, T, N, H)
        var scores = matmul(q.unsqueeze(2), k.transpose(-2, -1)).squeeze(2); // (B, T, N)
        // Dropout on the scores, before the softmax, as BertFusion does.
        if (training && dropoutProb > 0)
            scores = FastDropout.Apply(scores, dropoutProb);
        var weights = scores.softmax(-1); // T = 1: AdapterHub's dynamic and static configs have no temperature
        var context = matmul(weights.unsqueeze(2), v).squeeze(2); // (B, T, H)
        return (context + h).MoveToOuterDisposeScope(); // residual_before = False: the residual joins after the attention
    }

    public Tensor? Penalty()
    {
        if (value is null || !settings.Regularization || !value.weight!.requires_grad)
            return null;
        using var scope = NewDisposeScope();
        var identity = eye(value.weight.shape[0], dtype: value.weight.dtype, device: value.weight.device);
        return ((identity - value.weight).pow(2).sum() * RegularizationWeight).MoveToOuterDisposeScope();
    }

    private static Linear BertInit(Linear linear)
    {
        nn.init.normal_(linear.weight!, 0.0, 0.02);
        if (linear.bias is { } bias)
            nn.init.zeros_(bias);
        return linear;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            query?.Dispose();
            key?.Dispose();
            value?.Dispose();
        }
        base.Dispose(disposing);
    }
}
