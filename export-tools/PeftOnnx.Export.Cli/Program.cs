using PeftOnnx.Export.Cli;

return await PeftOnnxExportCli.BuildRootCommand().Parse(args).InvokeAsync();
