using ScottPlot;

namespace PeftOnnx.Training.TrainingLoop;

/// <summary>Draws training_curve.png from metrics.jsonl: running loss by step (left) and dev accuracy / macro-F1 by epoch (right).</summary>
public static class TrainingCurve
{
    public static void Save(string metricsPath, string pngPath, string title)
    {
        var (steps, epochs) = MetricsLog.Read(metricsPath);
        var plot = new Plot();
        plot.Title(title);
        plot.XLabel("optimizer step");
        plot.YLabel("training loss");
        if (steps.Count > 0)
        {
            var loss = plot.Add.Scatter(steps.Select(s => (double)s.Step).ToArray(), steps.Select(s => s.Loss).ToArray());
            loss.LegendText = "training loss";
            loss.MarkerSize = 0;
        }
        if (epochs.Count > 0)
        {
            var x = epochs.Select(e => (double)e.Step).ToArray();
            var accuracy = plot.Add.Scatter(x, epochs.Select(e => e.DevAccuracy).ToArray());
            accuracy.LegendText = "dev accuracy";
            accuracy.Axes.YAxis = plot.Axes.Right;
            var f1 = plot.Add.Scatter(x, epochs.Select(e => e.DevMacroF1).ToArray());
            f1.LegendText = "dev macro-F1";
            f1.Axes.YAxis = plot.Axes.Right;
            plot.Axes.Right.Label.Text = "dev metric";
        }
        plot.ShowLegend(Alignment.MiddleRight);
        var tmp = pngPath + ".tmp.png";
        plot.SavePng(tmp, 900, 500);
        File.Move(tmp, pngPath, overwrite: true);
    }
}
