using Microsoft.Extensions.Logging;
using PeftOnnx.Runtime.Sessions;
using PeftOnnx.Tests;

namespace PeftOnnx.Runtime.Tests.Sessions;

public sealed class SessionFactoryTests
{
    private static string ModelPath => Path.Combine(TestModels.EnsurePulled("minilm-l6"), "model.onnx");

    [Fact]
    public void Cpu_sessions_use_one_thread_per_physical_core()
    {
        using var session = new SessionFactory().Create(ModelPath, new SessionSettings { Device = DeviceKind.Cpu });
        Assert.Equal(DeviceKind.Cpu, session.Device);
        Assert.Equal(MachineInfo.PhysicalCores, session.IntraOpThreads);
        Assert.Contains("input_ids", session.Session.InputMetadata.Keys);
    }

    [Fact]
    public void Explicit_thread_count_is_used()
    {
        using var session = new SessionFactory().Create(ModelPath, new SessionSettings { Device = DeviceKind.Cpu, IntraOpThreads = 1 });
        Assert.Equal(1, session.IntraOpThreads);
    }

    [Fact]
    public void Auto_on_a_machine_without_cuda_says_once_at_information_level_that_it_uses_cpu()
    {
        var logger = new ListLogger();
        var factory = new SessionFactory(logger);
        using var session = factory.Create(ModelPath, new SessionSettings { Device = DeviceKind.Auto });
        if (session.Device == DeviceKind.Cuda)
        {
            Assert.DoesNotContain(logger.Messages, m => m.Contains("not available", StringComparison.Ordinal));
            return;
        }
        using var second = factory.Create(ModelPath, new SessionSettings { Device = DeviceKind.Auto });
        var note = Assert.Single(logger.Messages, m => m.Contains("CUDA not available", StringComparison.Ordinal));
        Assert.StartsWith("Information: CUDA not available", note);
        Assert.Contains("using CPU", note);
        Assert.DoesNotContain(logger.Messages, m => m.StartsWith("Warning", StringComparison.Ordinal));
    }

    [Fact]
    public void Cuda_when_unavailable_is_an_error_not_a_fallback()
    {
        using (var probe = new SessionFactory().Create(ModelPath, new SessionSettings { Device = DeviceKind.Auto }))
        {
            if (probe.Device == DeviceKind.Cuda)
                return; // This machine has CUDA: nothing to refuse.
        }
        var error = Assert.Throws<InvalidOperationException>(() => new SessionFactory().Create(ModelPath, new SessionSettings { Device = DeviceKind.Cuda }));
        Assert.Contains("--device cuda", error.Message);
    }

    [Fact]
    public void Missing_model_file_is_named()
    {
        var error = Assert.Throws<FileNotFoundException>(() => new SessionFactory().Create("/nonexistent/model.onnx", SessionSettings.Default));
        Assert.Contains("/nonexistent/model.onnx", error.Message);
    }

    [Fact]
    public void Thread_count_below_one_is_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SessionFactory().Create(ModelPath, new SessionSettings { Device = DeviceKind.Cpu, IntraOpThreads = 0 }));
    }
}
