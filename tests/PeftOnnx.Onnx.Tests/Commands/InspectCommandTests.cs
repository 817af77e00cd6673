using System.Text.Json;

namespace PeftOnnx.Onnx.Tests.Commands;

public sealed class InspectCommandTests
{
    [Fact]
    public void Json_report_has_module_map_parameter_counts_io_opset_and_ops()
    {
        var (code, stdout, _) = CliRunner.Invoke("inspect", MiniLm.ModelPath, "--json");

        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        Assert.Equal(22_713_216, root.GetProperty("parameter_count").GetInt64());
        Assert.Equal(37, root.GetProperty("linear_modules").GetArrayLength());
        Assert.Equal(13, root.GetProperty("opsets")[0].GetProperty("version").GetInt64());
        Assert.Equal(["input_ids", "attention_mask", "token_type_ids"], root.GetProperty("inputs").EnumerateArray().Select(i => i.GetProperty("name").GetString()));
        Assert.Equal(["batch", "sequence"], root.GetProperty("inputs")[0].GetProperty("shape").EnumerateArray().Select(d => d.GetString()));
        var ops = root.GetProperty("ops").EnumerateArray().ToDictionary(o => o.GetProperty("op").GetString()!, o => o.GetProperty("count").GetInt32());
        Assert.Equal(48, ops["MatMul"]);
        Assert.Equal(1, ops["Gemm"]);
        var intermediate = root.GetProperty("parameters_by_kind").EnumerateArray().Single(k => k.GetProperty("kind").GetString() == "intermediate.dense");
        Assert.Equal(6, intermediate.GetProperty("modules").GetInt32());
        Assert.Equal(6 * (384 * 1536 + 1536), intermediate.GetProperty("parameters").GetInt64());
    }

    [Fact]
    public void Table_report_lists_modules_and_totals()
    {
        var (code, stdout, _) = CliRunner.Invoke("inspect", MiniLm.ModelPath);

        Assert.Equal(0, code);
        Assert.Contains("encoder.layer.5.output.dense", stdout);
        Assert.Contains("pooler.dense.weight", stdout);
        Assert.Contains("22,713,216", stdout);
        Assert.Contains("Linear modules (37)", stdout);
    }

    [Fact]
    public void Corrupt_model_exits_1_with_the_reason_on_stderr()
    {
        using var dir = new TempFolder();
        var path = dir.Combine("broken.onnx");
        File.WriteAllText(path, "not a model");

        var (code, stdout, stderr) = CliRunner.Invoke("inspect", path);

        Assert.Equal(1, code);
        Assert.Empty(stdout);
        Assert.Contains("broken.onnx is not a valid ONNX model", stderr);
    }
}
