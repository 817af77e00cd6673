using PeftOnnx.Runtime.Inference;
using PeftOnnx.Runtime.Sessions;
using PeftOnnx.Tests;

namespace PeftOnnx.Runtime.Tests.Inference;

/// <summary>One CPU session on the real minilm-l6 model, shared by every test class in the "minilm" collection.</summary>
public sealed class MiniLmFixture : IDisposable
{
    public MiniLmFixture()
    {
        Directory = TestModels.EnsurePulled("minilm-l6");
        Model = OnnxModel.Load(Directory, new SessionSettings { Device = DeviceKind.Cpu });
    }

    public string Directory { get; }

    public OnnxModel Model { get; }

    public void Dispose() => Model.Dispose();
}

[CollectionDefinition("minilm")]
public sealed class MiniLmGroup : ICollectionFixture<MiniLmFixture>;
