using System.CommandLine;
using PeftOnnx.Cli.Commands.Enqueue;
using PeftOnnx.Cli.Commands.Serve;

namespace PeftOnnx.Cli;

/// <summary>Every verb of `peftonnx`, one per line: adding a verb is adding a line here.</summary>
internal static class Verbs
{
    public static IEnumerable<Command> All() =>
    [
        ServeCommand.Create(),
        EnqueueCommand.Create(),
    ];
}
