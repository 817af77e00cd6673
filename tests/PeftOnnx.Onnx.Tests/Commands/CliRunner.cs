using System.CommandLine;
using PeftOnnx.Export.Cli;

namespace PeftOnnx.Onnx.Tests.Commands;

/// <summary>Runs peftonnx-export verbs in-process with captured stdout and stderr.</summary>
internal static class CliRunner
{
    public static (int Code, string Stdout, string Stderr) Invoke(params string[] args)
    {
        var root = PeftOnnxExportCli.BuildRootCommand();
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = root.Parse(args).Invoke(new InvocationConfiguration { Output = stdout, Error = stderr });
        return (code, stdout.ToString(), stderr.ToString());
    }
}
