using PeftOnnx.Cli;
using PeftOnnx.Runtime.Sessions;

try
{
    return await PeftOnnxCli.InvokeAsync(args);
}
finally
{
    // A command that failed before building its session may have left ONNX Runtime loading on the thread pool.
    OrtEnvironment.Settle();
}
