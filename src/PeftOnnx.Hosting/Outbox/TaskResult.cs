using PeftOnnx.Runtime.Scoring;

namespace PeftOnnx.Hosting.Outbox;

/// <summary>
/// One task's result for a document scored by a parallel bundle, in records (<see cref="ResultRecord.Tasks"/>) and HTTP
/// responses alike: the task's label and its probability, every label's probability, and for a multi-label task the
/// labels at or above their thresholds.
/// </summary>
public sealed record TaskResult(string Label, float Score, IReadOnlyDictionary<string, float> Probabilities, IReadOnlyList<LabelScore>? Labels = null)
{
    /// <summary>Task name -> result, in the scorer's task order; null when the score has no tasks.</summary>
    public static IReadOnlyDictionary<string, TaskResult>? AllOf(TextScore score, IReadOnlyList<ScoredTask>? tasks)
    {
        ArgumentNullException.ThrowIfNull(score);
        if (tasks is null || score.Tasks is null)
            return null;
        var results = new Dictionary<string, TaskResult>(tasks.Count, StringComparer.Ordinal);
        foreach (var task in tasks)
        {
            var s = score.Tasks[task.Name];
            results[task.Name] = new TaskResult(s.Label!, s.Score,
                task.Labels.Select((label, i) => (label, s.Probabilities![i])).ToDictionary(x => x.label, x => x.Item2), LabelScore.Of(s, task.Labels));
        }
        return results;
    }
}
