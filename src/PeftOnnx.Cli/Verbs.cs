using System.CommandLine;
using PeftOnnx.Cli.Commands.Bench;
using PeftOnnx.Cli.Commands.BenchPipeline;
using PeftOnnx.Cli.Commands.Demo;
using PeftOnnx.Cli.Commands.Embed;
using PeftOnnx.Cli.Commands.Enqueue;
using PeftOnnx.Cli.Commands.Eval;
using PeftOnnx.Cli.Commands.LoadGen;
using PeftOnnx.Cli.Commands.Models;
using PeftOnnx.Cli.Commands.Score;
using PeftOnnx.Cli.Commands.Serve;
using PeftOnnx.Cli.Commands.Tokenize;

namespace PeftOnnx.Cli;

/// <summary>Every verb of `peftonnx`, one per line: adding a verb is adding a line here.</summary>
internal static class Verbs
{
    public static IEnumerable<Command> All() =>
    [
        ModelsCommand.Create(),
        TokenizeCommand.Create(),
        EmbedCommand.Create(),
        ScoreCommand.Create(),
        EvalCommand.Create(),
        DemoCommand.Create(),
        BenchCommand.Create(),
        ServeCommand.Create(),
        EnqueueCommand.Create(),
        LoadGenCommand.Create(),
        BenchPipelineCommand.Create(),
    ];
}
