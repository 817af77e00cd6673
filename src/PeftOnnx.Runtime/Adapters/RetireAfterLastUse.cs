namespace PeftOnnx.Runtime.Adapters;

/// <summary>
/// The ref-count behind adapters and mixed stacks that the registry replaces while runs may still use them: each run
/// enters and exits; <see cref="Retire"/> says no new run is expected; the release action (freeing native memory)
/// runs once, when the resource is retired and its last run has exited, so a run never sees its inputs freed.
/// </summary>
internal sealed class RetireAfterLastUse(Action release)
{
    private readonly object _gate = new();
    private int _uses;
    private bool _retired;

    /// <summary>True once released: retired, and no run holds it.</summary>
    public bool IsReleased { get; private set; }

    /// <summary>Counts one more run; false when already released (the caller needs a fresh resource).</summary>
    public bool TryEnter()
    {
        lock (_gate)
        {
            if (IsReleased)
                return false;
            _uses++;
            return true;
        }
    }

    public void Exit()
    {
        lock (_gate)
        {
            _uses--;
            ReleaseIfIdle();
        }
    }

    /// <summary>No new runs are expected; releases now or after the last running one.</summary>
    public void Retire()
    {
        lock (_gate)
        {
            _retired = true;
            ReleaseIfIdle();
        }
    }

    private void ReleaseIfIdle()
    {
        if (_retired && _uses == 0 && !IsReleased)
        {
            IsReleased = true;
            release();
        }
    }
}
