using System.CommandLine;
using PeftOnnx.Export.Cli.Commands.Train;
using PeftOnnx.Training.Methods.Baselines;

namespace PeftOnnx.Onnx.Tests.Commands;

/// <summary>`train --preset quick` fills in the options the command line leaves at their defaults; explicit options win.</summary>
public sealed class TrainPresetTests
{
    private static Training.FineTuningRequest Request(params string[] extra)
    {
        var options = new TrainOptions();
        var methods = new MethodOptions();
        var command = new Command("train");
        foreach (var option in options.All.Concat(methods.All))
            command.Options.Add(option);
        var parsed = command.Parse(["--base", "models/minilm-l6", "--train", "t.jsonl", "-o", "out", .. extra]);
        Assert.Empty(parsed.Errors);
        return options.ToRequest(parsed, new LinearProbeMethod());
    }

    [Fact]
    public void Quick_sets_steps_length_and_learning_rate()
    {
        var request = Request("--preset", "quick");
        Assert.Equal(TrainPreset.Quick.MaxLength, request.MaxLength);
        Assert.Equal(TrainPreset.Quick.MaxSteps, request.Options.MaxSteps);
        Assert.Equal(TrainPreset.Quick.EvalSteps, request.Options.EvalSteps);
        Assert.Equal(TrainPreset.Quick.LearningRate, request.Options.LearningRate);
    }

    [Fact]
    public void Options_given_explicitly_win_over_the_preset()
    {
        var request = Request("--preset", "quick", "--max-length", "96", "--max-steps", "10", "--lr", "1e-4");
        Assert.Equal(96, request.MaxLength);
        Assert.Equal(10, request.Options.MaxSteps);
        Assert.Equal(1e-4, request.Options.LearningRate);
        Assert.Equal(TrainPreset.Quick.EvalSteps, request.Options.EvalSteps);
    }

    [Fact]
    public void Without_a_preset_training_runs_by_epochs()
    {
        var request = Request();
        Assert.Equal(128, request.MaxLength);
        Assert.Null(request.Options.MaxSteps);
        Assert.Null(request.Options.EvalSteps);
    }
}
