using PeftOnnx.Cli;
using Xunit.Abstractions;

namespace PeftOnnx.Hosting.Tests.Support;

/// <summary>Runs `peftonnx` in this process on the CPU; its stderr goes to the test's output as well.</summary>
internal static class InProcessCli
{
    public static async Task<(int Code, string Out, string Error)> RunAsync(ITestOutputHelper output, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await PeftOnnxCli.InvokeAsync([.. args, "--device", "cpu"], stdout, stderr);
        output.WriteLine(stderr.ToString());
        return (code, stdout.ToString(), stderr.ToString());
    }
}
