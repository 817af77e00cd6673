using TorchSharp;

namespace PeftOnnx.Training.Methods;

/// <summary>How many parameters train, like PEFT's print_trainable_parameters.</summary>
public sealed record TrainableParameterReport(long Trainable, long Total)
{
    public double Percent => Total == 0 ? 0 : 100.0 * Trainable / Total;

    public static TrainableParameterReport Of(torch.nn.Module model)
    {
        long trainable = 0, total = 0;
        foreach (var p in model.parameters())
        {
            total += p.numel();
            if (p.requires_grad)
                trainable += p.numel();
        }
        return new TrainableParameterReport(trainable, total);
    }

    public override string ToString() => $"trainable params: {Trainable:N0} || all params: {Total:N0} || trainable%: {Percent:F4}";
}
