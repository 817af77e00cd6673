using PeftOnnx.Cli;

return await PeftOnnxCli.InvokeAsync(args);
