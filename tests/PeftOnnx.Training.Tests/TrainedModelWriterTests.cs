using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Adapters.Lora;
using PeftOnnx.Training.Encoder;
using PeftOnnx.Training.Methods.Lora;
using PeftOnnx.Training.Output;
using PeftOnnx.Training.TrainingLoop;
using TorchSharp;

namespace PeftOnnx.Training.Tests;

/// <summary>What the trainer writes names its base as PEFT does, so the exporter can refuse the adapter on another base.</summary>
public sealed class TrainedModelWriterTests : IDisposable
{
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void The_adapter_config_records_base_model_name_or_path()
    {
        torch.random.manual_seed(5);
        using var model = new BertForSequenceClassification(
            new BertConfig { VocabSize = 32, HiddenSize = 8, NumHiddenLayers = 1, NumAttentionHeads = 2, IntermediateSize = 16, MaxPositionEmbeddings = 16 }, 2);
        var method = new LoraMethod(new LoraConfig { R = 2, LoraAlpha = 4, TargetModules = TargetModules.FromNames("query", "value") });
        method.Apply(model);
        var report = new TrainingReport
        {
            BaseModel = "minilm-l6",
            BaseModelSha256 = "4a64cee3d4134bbdc86eed96e1a660efec58975417204ecfcf134140edb6e0e2",
            BaseModelNameOrPath = "sentence-transformers/all-MiniLM-L6-v2",
            Method = method.Name,
            Labels = ["a", "b"],
            Pooling = "pooler",
            Options = new TrainingOptions(),
            Device = "cpu",
        };
        var output = System.IO.Path.Combine(_dir.Path, "adapter");
        TrainedModelWriter.Write(output, model, method, report, metricsPath: null, curvePath: null, overwrite: false);

        var adapter = PeftAdapter.Load(output);
        Assert.Equal("sentence-transformers/all-MiniLM-L6-v2", adapter.Config.BaseModelNameOrPath);
        Assert.Equal("sentence-transformers/all-MiniLM-L6-v2", adapter.RawConfig["base_model_name_or_path"]!.GetValue<string>());
    }
}
