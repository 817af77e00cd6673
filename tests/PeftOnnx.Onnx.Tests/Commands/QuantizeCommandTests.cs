using PeftOnnx.Onnx;

namespace PeftOnnx.Onnx.Tests.Commands;

public sealed class QuantizeCommandTests
{
    [Fact]
    public void Int8_writes_a_quarter_size_unfused_model_by_default()
    {
        using var dir = new TempFolder();
        var output = dir.Combine("int8.onnx");

        var (code, stdout, stderr) = CliRunner.Invoke("quantize", MiniLm.ModelPath, "--to", "int8", "--output", output);

        Assert.True(code == 0, stderr);
        Assert.DoesNotContain("Attention: fused", stdout, StringComparison.Ordinal);
        Assert.True(new FileInfo(output).Length < new FileInfo(MiniLm.ModelPath).Length * 0.3);
        var nodes = OnnxModelFile.Load(output).Graph.Node;
        Assert.Contains(nodes, n => n.OpType == "DynamicQuantizeMatMul");
        Assert.DoesNotContain(nodes, n => n.OpType == "QAttention");
    }

    [Fact]
    public void Int8_with_fuse_turns_attention_into_QAttention()
    {
        using var dir = new TempFolder();
        var output = dir.Combine("int8.onnx");

        var (code, stdout, stderr) = CliRunner.Invoke("quantize", MiniLm.ModelPath, "--to", "int8", "--fuse", "--output", output);

        Assert.True(code == 0, stderr);
        Assert.Contains("Attention: fused 6", stdout);
        Assert.Contains("6 Attention nodes as QAttention", stdout);
        Assert.True(new FileInfo(output).Length < new FileInfo(MiniLm.ModelPath).Length * 0.3);
        var nodes = OnnxModelFile.Load(output).Graph.Node;
        Assert.Contains(nodes, n => n.OpType == "DynamicQuantizeMatMul");
        Assert.Contains(nodes, n => n.OpType == "QAttention");
    }

    [Fact]
    public void Unreadable_input_exits_1_and_writes_nothing()
    {
        using var dir = new TempFolder();
        var input = dir.Combine("broken.onnx");
        File.WriteAllBytes(input, [1, 2, 3]);

        var (code, _, stderr) = CliRunner.Invoke("quantize", input, "--to", "fp16", "-o", dir.Combine("out.onnx"));

        Assert.Equal(1, code);
        Assert.Contains("broken.onnx is not a valid ONNX model", stderr);
        Assert.False(File.Exists(dir.Combine("out.onnx")));
    }

    [Fact]
    public void Unknown_target_is_rejected_by_the_parser()
    {
        var (code, _, stderr) = CliRunner.Invoke("quantize", MiniLm.ModelPath, "--to", "int4", "-o", "unused.onnx");

        Assert.NotEqual(0, code);
        Assert.Contains("int4", stderr);
    }
}
