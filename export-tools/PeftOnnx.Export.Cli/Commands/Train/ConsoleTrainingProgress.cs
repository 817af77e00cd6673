using System.Diagnostics;
using PeftOnnx.Training.TrainingLoop;
using Spectre.Console;

namespace PeftOnnx.Export.Cli.Commands.Train;

/// <summary>
/// Training progress on stderr: a live bar with loss and ETA on a terminal; plain lines every few seconds
/// when stderr is redirected (logs), so nohup runs stay readable.
/// </summary>
internal sealed class ConsoleTrainingProgress(IAnsiConsole console) : ITrainingProgress
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private ProgressTask? _task;
    private int _total;
    private int _startStep;
    private double _smoothedLoss = double.NaN;
    private TimeSpan _lastLine = TimeSpan.Zero;

    public bool Interactive => console.Profile.Capabilities.Interactive;

    /// <summary>Runs <paramref name="work"/> under a live progress bar (or directly when not interactive).</summary>
    public T Run<T>(Func<T> work)
    {
        if (!Interactive)
            return work();
        T result = default!;
        console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new ElapsedTimeColumn())
            .Start(ctx =>
            {
                _task = ctx.AddTask("training", autoStart: true, maxValue: 1);
                result = work();
            });
        return result;
    }

    public void TrainingStarted(int totalSteps, int completedSteps)
    {
        _total = totalSteps;
        _startStep = completedSteps;
        if (_task is not null)
        {
            _task.MaxValue = totalSteps;
            _task.Value = completedSteps;
        }
    }

    public void StepCompleted(int epoch, int completedSteps, double loss, double learningRate)
    {
        _smoothedLoss = double.IsNaN(_smoothedLoss) ? loss : 0.95 * _smoothedLoss + 0.05 * loss;
        if (_task is not null)
        {
            _task.Value = completedSteps;
            _task.Description = $"epoch {epoch} loss {_smoothedLoss:F4} lr {learningRate:E1}";
            return;
        }
        if (_clock.Elapsed - _lastLine < TimeSpan.FromSeconds(15) && completedSteps != _total)
            return;
        _lastLine = _clock.Elapsed;
        var done = completedSteps - _startStep;
        var eta = done == 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(_clock.Elapsed.TotalSeconds / done * (_total - completedSteps));
        console.WriteLine($"step {completedSteps}/{_total} epoch {epoch} loss {_smoothedLoss:F4} lr {learningRate:E2} elapsed {_clock.Elapsed:hh\\:mm\\:ss} eta {eta:hh\\:mm\\:ss}");
    }

    public void EpochEvaluated(EpochSummary summary)
    {
        var line = Markup.Escape(
            $"epoch {summary.Epoch}: train loss {summary.TrainLoss:F4}, dev accuracy {summary.DevAccuracy:P2}, macro-F1 {summary.DevMacroF1:P2}, " +
            $"{summary.TrainTokensPerSecond:F0} tok/s, peak {summary.PeakMemoryBytes / 1048576.0:F0} MiB");
        console.MarkupLine(summary.Best ? line + " [green](best)[/]" : line);
    }

    public void Message(string text) => console.MarkupLineInterpolated($"[grey]{text}[/]");
}
