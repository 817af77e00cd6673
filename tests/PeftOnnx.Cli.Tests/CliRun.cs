namespace PeftOnnx.Cli.Tests;

/// <summary>The outcome of one in-process `peftonnx` invocation: exit code, stdout and stderr.</summary>
public sealed record CliRun(int ExitCode, string Out, string Error)
{
    public static async Task<CliRun> Of(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await PeftOnnxCli.InvokeAsync(args, output, error);
        return new CliRun(code, output.ToString(), error.ToString());
    }

    public string[] Lines => Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Out}\n--- stderr\n{Error}";
}
