using System.CommandLine;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace PeftOnnx.Cli.Commands.Common;

/// <summary>
/// Where a command writes: results to <see cref="Out"/> (stdout unless redirected by a test), progress, logs
/// and errors to <see cref="Error"/> (stderr). Spectre consoles wrap both writers.
/// </summary>
internal sealed class CliContext : IDisposable
{
    private readonly ILoggerFactory _loggers;

    public CliContext(ParseResult parseResult)
    {
        Out = parseResult.InvocationConfiguration.Output;
        Error = parseResult.InvocationConfiguration.Error;
        Progress = ConsoleFor(Error);
        Results = ConsoleFor(Out);
        var level = MinimumLevel(out var badLevel);
        _loggers = LoggerFactory.Create(builder => builder
            .SetMinimumLevel(level)
            .AddProvider(new TextWriterLoggerProvider(Error)));
        if (badLevel is not null)
            Logger("cli").LogWarning("{Variable} is '{Value}', not a log level (Trace, Debug, Information, Warning, Error, Critical, None); logging warnings", LevelVariable, badLevel);
    }

    /// <summary>The variable `serve` reads for its log level (PEFTONNX_ configuration), so one setting serves every verb.</summary>
    public const string LevelVariable = "PEFTONNX_Logging__LogLevel__Default";

    public TextWriter Out { get; }

    public TextWriter Error { get; }

    /// <summary>Spectre console on stderr, for status lines and progress.</summary>
    public IAnsiConsole Progress { get; }

    /// <summary>Spectre console on stdout, for tables that are a command's result.</summary>
    public IAnsiConsole Results { get; }

    public ILogger Logger(string category) => _loggers.CreateLogger(category);

    /// <summary>Warning (a command's own output is its result), or the level <see cref="LevelVariable"/> names.</summary>
    private static LogLevel MinimumLevel(out string? bad)
    {
        bad = null;
        var value = Environment.GetEnvironmentVariable(LevelVariable);
        if (string.IsNullOrWhiteSpace(value))
            return LogLevel.Warning;
        if (Enum.TryParse<LogLevel>(value.Trim(), ignoreCase: true, out var level) && Enum.IsDefined(level) && !int.TryParse(value, out _))
            return level;
        bad = value;
        return LogLevel.Warning;
    }

    private static IAnsiConsole ConsoleFor(TextWriter writer)
    {
        var terminal = (writer == Console.Out && !Console.IsOutputRedirected) || (writer == Console.Error && !Console.IsErrorRedirected);
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = terminal ? InteractionSupport.Detect : InteractionSupport.No,
        });
        // Tables written to a file or pipe are read later, not on an 80-column terminal.
        if (!terminal)
            console.Profile.Width = 120;
        return console;
    }

    public void Dispose() => _loggers.Dispose();
}
