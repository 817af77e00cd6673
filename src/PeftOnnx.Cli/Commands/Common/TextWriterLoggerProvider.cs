using Microsoft.Extensions.Logging;

namespace PeftOnnx.Cli.Commands.Common;

/// <summary>Logs one line per message ("warn: ...") to a writer: stderr in the CLI, a captured writer in tests.</summary>
internal sealed class TextWriterLoggerProvider : ILoggerProvider
{
    private readonly TextWriter _writer;

    public TextWriterLoggerProvider(TextWriter writer)
    {
        _writer = writer;
    }

    public ILogger CreateLogger(string categoryName) => new WriterLogger(_writer);

    public void Dispose()
    {
    }

    private sealed class WriterLogger(TextWriter writer) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var level = logLevel switch
            {
                LogLevel.Critical => "crit",
                LogLevel.Error => "fail",
                LogLevel.Warning => "warn",
                LogLevel.Information => "info",
                _ => "dbug",
            };
            lock (writer)
                writer.WriteLine($"{level}: {formatter(state, exception)}");
        }
    }
}
