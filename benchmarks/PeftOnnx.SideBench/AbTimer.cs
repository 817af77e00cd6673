using System.Diagnostics;

namespace PeftOnnx.SideBench;

/// <summary>Times two variants in alternation (A, B, A, B, ...) after a warm-up, so drifting machine speed hits both alike; reports medians.</summary>
internal static class AbTimer
{
    public static (double A, double B) Medians(Action a, Action b, int repetitions)
    {
        a();
        b();
        var ta = new List<double>();
        var tb = new List<double>();
        for (var i = 0; i < repetitions; i++)
        {
            ta.Add(Time(a));
            tb.Add(Time(b));
        }
        return (Median(ta), Median(tb));
    }

    public static double Time(Action action)
    {
        var watch = Stopwatch.StartNew();
        action();
        return watch.Elapsed.TotalMilliseconds;
    }

    public static double Median(List<double> values)
    {
        values.Sort();
        return values.Count % 2 == 1 ? values[values.Count / 2] : (values[values.Count / 2 - 1] + values[values.Count / 2]) / 2;
    }
}
