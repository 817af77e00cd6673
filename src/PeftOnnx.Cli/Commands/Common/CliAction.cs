using System.CommandLine;
using Microsoft.ML.OnnxRuntime;
using PeftOnnx.Models;

namespace PeftOnnx.Cli.Commands.Common;

/// <summary>
/// Runs a command body and turns the errors a user can cause (missing files, bad data, unknown models,
/// failed pulls, bad option values) into one "error: ..." line on stderr and exit code 1, without a stack trace.
/// </summary>
internal static class CliAction
{
    public const int Failure = 1;
    public const int Cancelled = 130;

    public static void Set(Command command, Func<ParseResult, CliContext, CancellationToken, Task<int>> body) =>
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            using var context = new CliContext(parseResult);
            try
            {
                return await body(parseResult, context, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                await context.Error.WriteLineAsync("cancelled");
                return Cancelled;
            }
            catch (Exception e) when (IsUserError(e))
            {
                await context.Error.WriteLineAsync($"error: {e.Message}");
                return Failure;
            }
        });

    private static bool IsUserError(Exception e) => e is
        UsageException or FileNotFoundException or DirectoryNotFoundException or InvalidDataException or
        UnknownModelException or ModelPullException or ArgumentException or IOException or
        UnauthorizedAccessException or OnnxRuntimeException or InvalidOperationException;
}
