using System.CommandLine;
using PeftOnnx.Cli.Commands.Common;

namespace PeftOnnx.Cli;

/// <summary>The `peftonnx` command line: the root command and its verbs (listed in <see cref="Verbs"/>).</summary>
public static class PeftOnnxCli
{
    public static RootCommand BuildRootCommand()
    {
        var root = new RootCommand("PeftOnnx: serve BERT-family encoders and their PEFT adapters with ONNX Runtime.");
        foreach (var verb in Verbs.All())
            root.Subcommands.Add(verb);
        return root.HideLegacyAliasesInHelp();
    }

    /// <summary>Runs <paramref name="args"/>; tests pass writers to capture stdout and stderr.</summary>
    public static Task<int> InvokeAsync(string[] args, TextWriter? output = null, TextWriter? error = null, CancellationToken cancellationToken = default)
    {
        var configuration = new InvocationConfiguration();
        if (output is not null)
            configuration.Output = output;
        if (error is not null)
            configuration.Error = error;
        return BuildRootCommand().Parse(args).InvokeAsync(configuration, cancellationToken);
    }
}
