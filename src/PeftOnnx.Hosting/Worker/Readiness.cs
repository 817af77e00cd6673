using System.Collections.Concurrent;

namespace PeftOnnx.Hosting.Worker;

/// <summary>
/// What /readyz reports: each component (inbox worker, queue worker) registers when it starts and marks itself
/// ready once its ledger is recovered and it is consuming; the host is ready when none is pending.
/// </summary>
public sealed class Readiness
{
    private readonly ConcurrentDictionary<string, string> _pending = new();

    public void Expect(string component, string why) => _pending[component] = why;

    public void MarkReady(string component) => _pending.TryRemove(component, out _);

    public IReadOnlyDictionary<string, string> Pending => _pending;

    public bool IsReady => _pending.IsEmpty;
}
