using PeftOnnx.Runtime.Evaluation;
using ScottPlot;

namespace PeftOnnx.Cli.Commands.Eval.Report;

/// <summary>
/// The report's picture (ScottPlot, as training_curve.png): the confusion matrix as a heatmap (each row shaded by the
/// share of its gold documents, the count written in the cell) above per-label precision, recall and F1 bars.
/// </summary>
internal static class EvalChart
{
    private static readonly Color[] BarColors = [new(31, 119, 180), new(255, 127, 14), new(44, 160, 44)];

    public static byte[] Png(EvalOutcome outcome)
    {
        var n = outcome.Labels.Count;
        var side = Math.Clamp(80 + (n * 60), 520, 1400);
        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        Heatmap(multiplot.GetPlot(0), outcome);
        Bars(multiplot.GetPlot(1), outcome.PerLabel);
        using var image = multiplot.Render(side + 200, (side * 2) + 120);
        return image.GetImageBytes(ImageFormat.Png);
    }

    private static void Heatmap(Plot plot, EvalOutcome outcome)
    {
        var labels = outcome.Labels;
        var n = labels.Count;
        var colormap = new ScottPlot.Colormaps.Blues();
        for (var g = 0; g < n; g++)
        {
            var row = outcome.Confusion[g];
            var total = Math.Max(1, row.Sum());
            for (var p = 0; p < n; p++)
            {
                var share = (double)row[p] / total;
                var y = n - 1 - g; // gold labels top to bottom
                var cell = plot.Add.Rectangle(p - 0.5, p + 0.5, y - 0.5, y + 0.5);
                cell.FillColor = colormap.GetColor(1 - share); // Blues runs from dark (0) to white (1)
                cell.LineColor = Colors.White;
                var count = plot.Add.Text(row[p].ToString(System.Globalization.CultureInfo.InvariantCulture), p, y);
                count.LabelAlignment = Alignment.MiddleCenter;
                count.LabelFontSize = 14;
                count.LabelFontColor = share > 0.5 ? Colors.White : Colors.Black;
            }
        }
        var positions = Enumerable.Range(0, n).Select(i => (double)i).ToArray();
        plot.Axes.Bottom.SetTicks(positions, [.. labels]);
        plot.Axes.Left.SetTicks(positions, [.. labels.Reverse()]);
        RotateBottomLabels(plot, labels);
        plot.Axes.SetLimits(-0.5, n - 0.5, -0.5, n - 0.5);
        plot.HideGrid();
        plot.Title(outcome.IsMultiLabel ? "label confusion (rows: gold missed, columns: given instead)" : "confusion matrix");
        plot.XLabel("predicted");
        plot.YLabel("gold");
    }

    private static void Bars(Plot plot, IReadOnlyList<LabelMetrics> perLabel)
    {
        string[] series = ["precision", "recall", "F1"];
        for (var l = 0; l < perLabel.Count; l++)
        {
            double[] values = [perLabel[l].Precision, perLabel[l].Recall, perLabel[l].F1];
            for (var s = 0; s < 3; s++)
            {
                var bar = plot.Add.Bar(position: l + ((s - 1) * 0.27), value: values[s]);
                bar.Bars[0].Size = 0.25;
                bar.Color = BarColors[s];
            }
        }
        for (var s = 0; s < 3; s++)
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = series[s], FillColor = BarColors[s] });
        plot.ShowLegend(Alignment.UpperRight);
        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, perLabel.Count).Select(i => (double)i)], [.. perLabel.Select(m => m.Label)]);
        RotateBottomLabels(plot, [.. perLabel.Select(m => m.Label)]);
        plot.Axes.SetLimits(-0.6, perLabel.Count - 0.4, 0, 1.15);
        plot.Title("per-label precision, recall and F1");
    }

    /// <summary>Label names slanted under the axis, with room for the longest.</summary>
    private static void RotateBottomLabels(Plot plot, IReadOnlyList<string> labels)
    {
        plot.Axes.Bottom.TickLabelStyle.Rotation = -45;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleRight;
        plot.Axes.Bottom.MinimumSize = 30 + (7 * labels.Max(l => l.Length));
    }
}
