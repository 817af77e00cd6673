using System.CommandLine;
using PeftOnnx.Onnx;
using PeftOnnx.Onnx.Passes;
using PeftOnnx.Onnx.Passes.Fusions;

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
        var output = new Option<FileInfo>("--output", "-o") { Description = "Output file: the converted model.", Required = true };
        var format = new Option<string>("--int8-format")
        {
            Description = "How int8 MatMuls are written: dqmm (com.microsoft DynamicQuantizeMatMul, bias folded) or matmul-integer (standard ops).",
            DefaultValueFactory = _ => "dqmm",
        };
        format.AcceptOnlyFromAmong("dqmm", "matmul-integer");
        var fuse = new Option<bool>("--fuse")
        {
            Description = "int8: run the transformer fusions (LayerNorm, SkipLayerNorm, BiasGelu, Attention) first, so Attention becomes QAttention. " +
                          "Off by default: on AVX-512/VNNI CPUs the unfused int8 graph measured faster at batch 8 and up (2.41x vs 1.76x fp32 at batch 32) and the same at batch 1.",
        };
        var command = new Command("quantize", "Convert a float32 model to int8 (dynamic quantization, CPU) or fp16 (GPU).") { model, to, output, format, fuse };
        command.SetAction(parseResult =>
        {
            var input = parseResult.GetValue(model)!;
            var target = parseResult.GetValue(output)!;
            IGraphPass pass = parseResult.GetValue(to) == "fp16"
                ? new Fp16ConversionPass()
                : new DynamicInt8QuantizationPass
                {
                    Format = parseResult.GetValue(format) == "matmul-integer" ? Int8MatMulFormat.MatMulInteger : Int8MatMulFormat.DynamicQuantizeMatMul,
                };
            try
            {
                var onnx = OnnxModelFile.Load(input.FullName);
                var stdout = parseResult.InvocationConfiguration.Output;
                if (pass is DynamicInt8QuantizationPass && parseResult.GetValue(fuse))
                {
                    foreach (var fusion in TransformerFusion.Apply(onnx))
                        stdout.WriteLine(fusion);
                }
                var report = onnx.Apply(pass);
                OnnxModelFile.Save(onnx, target.FullName);
                stdout.WriteLine(report);
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
