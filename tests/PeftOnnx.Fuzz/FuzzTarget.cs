namespace PeftOnnx.Fuzz;

/// <summary>
/// One parser of untrusted bytes under fuzzing. <see cref="Run"/> feeds it one input; the only allowed outcomes are
/// success or the parser's own format error (<see cref="IsOwnFormatError"/>); any other exception is a crash.
/// </summary>
public abstract class FuzzTarget
{
    /// <summary>The name used on the command line and for the corpus folder (corpus/&lt;name&gt;/).</summary>
    public abstract string Name { get; }

    /// <summary>What the input bytes are, for the usage text.</summary>
    public abstract string Description { get; }

    /// <summary>Parses one input; throws whatever the parser throws.</summary>
    public abstract void Run(ReadOnlySpan<byte> input);

    /// <summary>True for the exceptions the parser documents for bad input (its format error).</summary>
    public abstract bool IsOwnFormatError(Exception exception);

    /// <summary>Runs one input and classifies the outcome; never throws.</summary>
    public FuzzOutcome Check(ReadOnlySpan<byte> input)
    {
        try
        {
            Run(input);
            return FuzzOutcome.Accepted;
        }
        catch (Exception e) when (IsOwnFormatError(e))
        {
            return FuzzOutcome.Rejected;
        }
#pragma warning disable CA1031 // Every other exception is the finding this method reports.
        catch (Exception e)
#pragma warning restore CA1031
        {
            return FuzzOutcome.Crash(e);
        }
    }
}

/// <summary>The outcome of one input: accepted, rejected with the parser's format error, or a crash.</summary>
public sealed record FuzzOutcome(bool IsCrash, bool IsRejected, Exception? Error)
{
    public static FuzzOutcome Accepted { get; } = new(false, false, null);

    public static FuzzOutcome Rejected { get; } = new(false, true, null);

    public static FuzzOutcome Crash(Exception error) => new(true, false, error);

    /// <summary>Exception type and the first frame, so one bug found by many inputs counts once.</summary>
    public string Signature => Error is null ? "" : $"{Error.GetType().FullName} at {FirstFrame(Error)}";

    private static string FirstFrame(Exception error) =>
        error.StackTrace?.Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()?.Trim() ?? "(no stack)";
}
