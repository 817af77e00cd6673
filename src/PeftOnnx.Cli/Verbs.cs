using System.CommandLine;
#if !EDGE
using PeftOnnx.Cli.Commands.Bench;
using PeftOnnx.Cli.Commands.BenchPipeline;
using PeftOnnx.Cli.Commands.Demo;
using PeftOnnx.Cli.Commands.LoadGen;
#endif
using PeftOnnx.Cli.Commands.Embed;
using PeftOnnx.Cli.Commands.Enqueue;
using PeftOnnx.Cli.Commands.Eval;
using PeftOnnx.Cli.Commands.Models;
using PeftOnnx.Cli.Commands.Score;
using PeftOnnx.Cli.Commands.Serve;
using PeftOnnx.Cli.Commands.Tokenize;

namespace PeftOnnx.Cli;

/// <summary>
/// Every verb of `peftonnx`, one per line: adding a verb is adding a line here. The edge build (EDGE, see
/// PeftOnnx.Cli.csproj) leaves out demo and the benchmark verbs.
/// </summary>
internal static class Verbs
{
    public static IEnumerable<Command> All() =>
    [
        ModelsCommand.Create(),
        TokenizeCommand.Create(),
        EmbedCommand.Create(),
        ScoreCommand.Create(),
        EvalCommand.Create(),
        ServeCommand.Create(),
        EnqueueCommand.Create(),
#if !EDGE
        DemoCommand.Create(),
        BenchCommand.Create(),
        LoadGenCommand.Create(),
        BenchPipelineCommand.Create(),
#endif
    ];
}
