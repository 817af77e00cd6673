namespace PeftOnnx.Cli.Commands.Common;

/// <summary>A combination of options or values the command cannot work with; the message says what to pass instead.</summary>
internal sealed class UsageException : Exception
{
    public UsageException(string message)
        : base(message)
    {
    }
}
