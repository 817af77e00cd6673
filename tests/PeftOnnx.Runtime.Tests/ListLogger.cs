using Microsoft.Extensions.Logging;

namespace PeftOnnx.Runtime.Tests;

/// <summary>Keeps every log line as "Level: message", for tests that check what was logged.</summary>
internal sealed class ListLogger : ILogger
{
    public List<string> Messages { get; } = [];

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (Messages)
            Messages.Add($"{logLevel}: {formatter(state, exception)}");
    }
}
