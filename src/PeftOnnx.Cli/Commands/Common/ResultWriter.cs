using System.Security.Cryptography;

namespace PeftOnnx.Cli.Commands.Common;

/// <summary>
/// Where a command's results go: the context's stdout, or a file given with --output. A file is written
/// under a temporary name and renamed into place by <see cref="Commit"/>; disposing without committing
/// (the command failed) deletes the temporary file, so a failed run never leaves a partial results file.
/// </summary>
internal sealed class ResultWriter : IDisposable
{
    private readonly string? _target;
    private readonly string? _temp;
    private readonly StreamWriter? _file;

    public ResultWriter(CliContext context, FileInfo? output)
    {
        if (output is null)
        {
            Writer = context.Out;
            return;
        }
        var directory = output.DirectoryName ?? ".";
        if (!Directory.Exists(directory))
            throw new UsageException($"--output {output.FullName}: folder {directory} does not exist.");
        _target = output.FullName;
        _temp = $"{_target}.{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}.tmp";
        _file = new StreamWriter(_temp, append: false, new System.Text.UTF8Encoding(false)) { NewLine = "\n" };
        Writer = _file;
    }

    public TextWriter Writer { get; }

    /// <summary>True when results go to a file (so stdout is free for a human summary).</summary>
    public bool ToFile => _target is not null;

    public void Commit()
    {
        if (_file is null)
        {
            Writer.Flush();
            return;
        }
        _file.Dispose();
        File.Move(_temp!, _target!, overwrite: true);
    }

    public void Dispose()
    {
        if (_file is null)
            return;
        _file.Dispose();
        if (File.Exists(_temp))
            File.Delete(_temp);
    }
}
