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
    public void Auto_falls_back_to_cpu_and_logs_why_when_cuda_is_unavailable()
    {
        var logger = new ListLogger();
        using var session = new SessionFactory(logger).Create(ModelPath, new SessionSettings { Device = DeviceKind.Auto });
        if (session.Device == DeviceKind.Cuda)
        {
            Assert.DoesNotContain(logger.Messages, m => m.Contains("not available", StringComparison.Ordinal));
            return;
        }
        var warning = Assert.Single(logger.Messages, m => m.StartsWith("Warning: CUDA is not available", StringComparison.Ordinal));
        Assert.Contains("running", warning);
        Assert.DoesNotContain("[ONNXRuntimeError]", warning);
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
