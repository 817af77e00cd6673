using System.Text.Json.Nodes;
using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Adapters.Lora;
using PeftOnnx.Onnx.Tests.Commands;
using PeftOnnx.Onnx.Tests.Export;
using Xunit.Abstractions;

namespace PeftOnnx.Onnx.Tests.Arithmetic;

/// <summary>`peftonnx-export merge-adapters` end to end: the PEFT folder it writes, and bad input refused with the adapter named and nothing written.</summary>
public sealed class MergeAdaptersCommandTests(ITestOutputHelper log) : IDisposable
{
    private readonly TempFolder _tmp = new();

    public void Dispose() => _tmp.Dispose();

    private static string Shipped => Path.Combine(PeftOnnx.Tests.TestPaths.RepoRoot, "models", "adapters", "debian-sections-lora-r8");

    private (int Code, string Stdout, string Stderr) Merge(string output, params string[] args)
    {
        var result = CliRunner.Invoke(["merge-adapters", "--base", AdapterFixtures.BaseModelDirectory, "-o", output, .. args]);
        log.WriteLine($"exit {result.Code}\n{result.Stdout}{result.Stderr}");
        return result;
    }

    [Fact]
    public void Writes_a_peft_lora_folder_with_the_heads_labels_and_the_provenance()
    {
        var target = _tmp.Combine("merged");
        var (code, stdout, _) = Merge(target, "--adapters", $"{Shipped},{AdapterFixtures.Golden("seqcls_lora_qv_r8")}", "--method", "dare_ties", "--weights", "0.7,0.3", "--density", "0.5", "--seed", "3", "--head", "debian-sections-lora-r8");

        Assert.Equal(0, code);
        Assert.Contains("LoRA r = 8, 12 modules, dare_ties", stdout, StringComparison.Ordinal);
        var adapter = PeftAdapter.Load(target);
        var config = Assert.IsType<LoraConfig>(adapter.Config);
        Assert.Equal((8, 8.0, false), (config.R, config.LoraAlpha, config.UseRslora));
        Assert.Equal(26, adapter.Tensors.Count); // 12 modules x (A, B) + classifier weight and bias
        var record = JsonNode.Parse(File.ReadAllText(Path.Combine(target, "training.json")))!.AsObject();
        Assert.Equal("merge-adapters dare_ties", (string?)record["method"]);
        Assert.Equal("games", (string?)record["labels"]![4]);
        Assert.Equal(3, (int)record["derived_from"]!["seed"]!);
        Assert.Equal(new[] { "merged" }, Directory.GetDirectories(_tmp.Path).Select(Path.GetFileName));
    }

    public static TheoryData<string, string[], string> BadInputs() => new()
    {
        { "weights count", ["--adapters", $"{Shipped},{AdapterFixtures.Golden("seqcls_lora_qv_r8")}", "--method", "cat", "--weights", "1,2,3", "--head", "debian-sections-lora-r8"], "--weights gives 3 weights (1, 2, 3) for 2 adapters" },
        { "duplicate path", ["--adapters", $"{Shipped},{Shipped}", "--method", "linear"], "is given 2 times" },
        { "density zero", ["--adapters", $"{Shipped},{AdapterFixtures.Golden("seqcls_lora_qv_r8")}", "--method", "ties", "--density", "0", "--head", "debian-sections-lora-r8"], "--density should be in (0, 1]" },
        { "density above one", ["--adapters", $"{Shipped},{AdapterFixtures.Golden("seqcls_lora_qv_r8")}", "--method", "dare_linear", "--density", "1.5", "--head", "debian-sections-lora-r8"], "got 1.5" },
        { "density missing", ["--adapters", $"{Shipped},{AdapterFixtures.Golden("seqcls_lora_qv_r8")}", "--method", "dare_ties", "--head", "debian-sections-lora-r8"], "give --density" },
        { "ranks differ", ["--adapters", $"{AdapterFixtures.Golden("lora_qv_r8")},{AdapterFixtures.Golden("lora_all_r16_rslora")}", "--method", "ties", "--density", "0.5"], "lora_qv_r8 r = 8, lora_all_r16_rslora r = 16" },
        { "task types differ", ["--adapters", $"{AdapterFixtures.Golden("lora_qv_r8")},{AdapterFixtures.Golden("seqcls_lora_qv_r8")}", "--method", "cat"], "seqcls_lora_qv_r8 has task_type SEQ_CLS but lora_qv_r8 has null" },
        { "not lora", ["--adapters", $"{AdapterFixtures.Golden("lora_qv_r8")},{AdapterFixtures.Golden("ia3_kv_ff")}", "--method", "cat"], "adapter ia3_kv_ff" },
        { "two heads", ["--adapters", $"{Shipped},{AdapterFixtures.Golden("seqcls_lora_qv_r8")}", "--method", "cat"], "--head debian-sections-lora-r8" },
        { "svd rank too big", ["--adapters", $"{AdapterFixtures.Golden("lora_qv_r8")},{AdapterFixtures.Golden("lora_all_r16_rslora")}", "--method", "svd", "--svd-rank", "385"], "--svd-rank 385 exceeds min(out, in) = 384" },
        { "svd rank zero", ["--adapters", $"{AdapterFixtures.Golden("lora_qv_r8")},{AdapterFixtures.Golden("lora_all_r16_rslora")}", "--method", "svd", "--svd-rank", "0"], "--svd-rank should be positive, got 0" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void Bad_input_is_refused_naming_the_problem_and_nothing_is_written(string why, string[] args, string message)
    {
        var target = _tmp.Combine("merged");
        var (code, _, stderr) = Merge(target, args);
        Assert.True(code == 1, why);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(_tmp.Path));
    }

    [Fact]
    public void Adapters_of_another_base_or_with_one_name_twice_are_refused()
    {
        var other = Copy(Shipped, "a", "debian-sections-lora-r8");
        var record = JsonNode.Parse(File.ReadAllText(Path.Combine(other, "training.json")))!.AsObject();
        record["base_model_sha256"] = new string('0', 64);
        File.WriteAllText(Path.Combine(other, "training.json"), record.ToJsonString());
        var second = Copy(AdapterFixtures.Golden("seqcls_lora_qv_r8"), "b", "x");
        var target = _tmp.Combine("merged");

        var (code, _, stderr) = Merge(target, "--adapters", $"{second},{other}", "--method", "cat", "--head", "x");
        Assert.Equal(1, code);
        Assert.Contains("adapter debian-sections-lora-r8:", stderr, StringComparison.Ordinal);
        Assert.Contains("was trained on minilm-l6", stderr, StringComparison.Ordinal);

        var sameName = Copy(AdapterFixtures.Golden("seqcls_lora_qv_r8"), "c", "x");
        (code, _, stderr) = Merge(target, "--adapters", $"{second},{sameName}", "--method", "cat", "--head", "x");
        Assert.Equal(1, code);
        Assert.Contains("adapter name \"x\" is given 2 times", stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(target));
        Assert.DoesNotContain(Directory.GetDirectories(_tmp.Path), d => Path.GetFileName(d).StartsWith("merged", StringComparison.Ordinal));
    }

    [Fact]
    public void Regex_and_list_targets_cannot_be_combined()
    {
        var regex = Copy(AdapterFixtures.Golden("lora_qv_r8"), "r", "regex");
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(regex, "adapter_config.json")))!.AsObject();
        config["target_modules"] = ".*\\.(query|value)";
        File.WriteAllText(Path.Combine(regex, "adapter_config.json"), config.ToJsonString());
        var target = _tmp.Combine("merged");
        var (code, _, stderr) = Merge(target, "--adapters", $"{AdapterFixtures.Golden("lora_qv_r8")},{regex}", "--method", "cat");
        Assert.Equal(1, code);
        Assert.Contains("adapter regex gives target_modules as the regex", stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(target));
    }

    private string Copy(string source, string parent, string name)
    {
        var folder = _tmp.Combine(parent, name);
        Directory.CreateDirectory(folder);
        foreach (var file in Directory.GetFiles(source))
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        return folder;
    }
}
