using PeftOnnx.Training.Encoder;
using PeftOnnx.Training.TrainingLoop;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Methods.LoReft;

/// <summary>
/// One LoReFT intervention, <c>h + Rᵀ(W·h + b − R·h)</c> (pyreft's LoreftIntervention; adapters' ReftUnit with
/// orthogonality and subtract_projection): R = projection.weight [r, H] with orthonormal rows, W, b = learned_source.
/// pyreft keeps R orthonormal with torch's orthogonal parametrization; here the trainer retracts R onto the Stiefel
/// manifold after every optimizer step (<see cref="Project"/>: the Q factor of a QR), so the saved R is the one used.
/// </summary>
public sealed class LoReftUnit : nn.Module<Tensor, Tensor>, IParameterConstraint
{
    private readonly Linear projection;
    private readonly Linear learned_source;
    private readonly double dropout;

    public LoReftUnit(int hidden, int rank, double dropout) : base(nameof(LoReftUnit))
    {
        if (rank <= 0 || rank > hidden)
            throw new ArgumentException($"the LoReFT rank should be in 1..{hidden}, got {rank}.");
        projection = nn.Linear(hidden, rank, hasBias: false);
        learned_source = nn.Linear(hidden, rank);
        using (no_grad())
            nn.init.orthogonal_(projection.weight!);
        this.dropout = dropout;
        RegisterComponents();
    }

    /// <summary>R [r, H].</summary>
    public Parameter Projection => projection.weight!;

    /// <param name="h">(..., H)</param>
    public override Tensor forward(Tensor h)
    {
        using var scope = NewDisposeScope();
        var r = projection.weight!;
        var edit = (learned_source.forward(h) - h.matmul(r.t())).matmul(r); // (..., r) -> (..., H)
        var output = h + edit;
        if (training && dropout > 0)
            output = FastDropout.Apply(output, dropout);
        return output.MoveToOuterDisposeScope();
    }

    /// <summary>R ← the Q factor of Rᵀ = QU (signs fixed so diag(U) ≥ 0): the nearest rows of the QR retraction, orthonormal again.</summary>
    public void Project()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var (q, u) = linalg.qr(projection.weight!.t()); // Q (H, r), U (r, r)
        var signs = u.diagonal().sign().where(u.diagonal() != 0, 1.0f); // (r)
        projection.weight!.copy_((q * signs).t());
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            projection.Dispose();
            learned_source.Dispose();
        }
        base.Dispose(disposing);
    }
}
