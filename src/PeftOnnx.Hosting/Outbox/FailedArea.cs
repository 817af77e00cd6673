using PeftOnnx.Hosting.Worker;

namespace PeftOnnx.Hosting.Outbox;

/// <summary>
/// The failed/ area: a document that cannot be scored is moved here (keeping its sub-folders) next to a
/// &lt;name&gt;.reason.txt that says why. A document that vanished leaves only the reason file. A second input with the
/// same name gets a numbered name (<see cref="FreeName"/>), so nothing parked earlier is overwritten.
/// </summary>
public sealed class FailedArea(string directory)
{
    private const string ReasonSuffix = ".reason.txt";

    public string Directory { get; } = Path.GetFullPath(directory);

    /// <summary>
    /// Writes the reason and moves <paramref name="sourcePath"/> there (when it still exists and <paramref name="moveInput"/>).
    /// Returns the reason file's path. Throws <see cref="ArgumentException"/> for a document id that is not a plain
    /// relative path (nothing is written then).
    /// </summary>
    public string Park(string sourcePath, string docId, string reason, int attempts, bool moveInput = true)
    {
        var target = FreeName.For(DocumentIds.PathUnder(Directory, docId), ReasonSuffix);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var reasonFile = target + ReasonSuffix;
        var temp = reasonFile + ".tmp";
        try
        {
            File.WriteAllText(temp, $"path: {sourcePath}\nattempts: {attempts}\nreason: {reason}\nat: {DateTimeOffset.UtcNow:O}\n");
            File.Move(temp, reasonFile, overwrite: true);
        }
        catch
        {
            // A full disk must not leave half a reason file behind.
            File.Delete(temp);
            throw;
        }
        try
        {
            // A symbolic link is moved as the link (rename), never its target.
            if (moveInput && FreeName.Exists(sourcePath))
                FreeName.Move(sourcePath, target);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            File.AppendAllText(reasonFile, $"not moved: {e.Message}\n");
        }
        return reasonFile;
    }
}
