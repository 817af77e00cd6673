using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace PeftOnnx.Hosting.Tests.Support;

/// <summary>Sends a component's log lines to the test output.</summary>
internal sealed class TestLogger(ITestOutputHelper output) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        try
        {
            output.WriteLine($"[{logLevel}] {formatter(state, exception)}");
        }
        catch (InvalidOperationException)
        {
            // The test already finished (a late line from a background stage).
        }
    }
}
