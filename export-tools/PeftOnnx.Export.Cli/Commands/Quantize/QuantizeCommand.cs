using System.CommandLine;
using PeftOnnx.Onnx;
using PeftOnnx.Onnx.Passes;

namespace PeftOnnx.Export.Cli.Commands.Quantize;

/// <summary>
/// <c>peftonnx-export quantize model.onnx --to int8|fp16 --output out.onnx</c>: the edge passes on an existing model
/// (int8: dynamic quantization for CPU; fp16: half-precision weights and compute for GPU), inputs and outputs unchanged.
/// </summary>
public static class QuantizeCommand
{
    public static Command Create()
    {
        var model = new Argument<FileInfo>("model") { Description = "The float32 ONNX model." };
        var to = new Option<string>("--to") { Description = "int8 (dynamic, CPU) or fp16 (GPU).", Required = true };
        to.AcceptOnlyFromAmong("int8", "fp16");
        var output = new Option<FileInfo>("--output", "-o") { Description = "Where to write the converted model.", Required = true };
        var format = new Option<string>("--int8-format")
        {
            Description = "How int8 MatMuls are written: dqmm (com.microsoft DynamicQuantizeMatMul, bias folded) or matmul-integer (standard ops).",
            DefaultValueFactory = _ => "dqmm",
        };
        format.AcceptOnlyFromAmong("dqmm", "matmul-integer");
        var command = new Command("quantize", "Convert a float32 model to int8 (dynamic quantization, CPU) or fp16 (GPU).") { model, to, output, format };
        command.SetAction(parseResult =>
        {
            var input = parseResult.GetValue(model)!;
            var target = parseResult.GetValue(output)!;
            IModelPass pass = parseResult.GetValue(to) == "fp16"
                ? new Fp16ConversionPass()
                : new DynamicInt8QuantizationPass
                {
                    Format = parseResult.GetValue(format) == "matmul-integer" ? Int8MatMulFormat.MatMulInteger : Int8MatMulFormat.DynamicQuantizeMatMul,
                };
            try
            {
                var onnx = OnnxModelFile.Load(input.FullName);
                var summary = pass.Apply(onnx);
                OnnxModelFile.Save(onnx, target.FullName);
                var stdout = parseResult.InvocationConfiguration.Output;
                stdout.WriteLine(summary);
                stdout.WriteLine($"{target.FullName}: {new FileInfo(target.FullName).Length:N0} bytes ({new FileInfo(target.FullName).Length / (double)input.Length:P1} of {input.Length:N0})");
                return 0;
            }
            catch (Exception e) when (e is InvalidDataException or FileNotFoundException or NotSupportedException)
            {
                parseResult.InvocationConfiguration.Error.WriteLine($"quantize: {e.Message}");
                return 1;
            }
        });
        return command;
    }
}
