namespace PeftOnnx.Hosting.Outbox;

/// <summary>
/// The failed/ area: a document that cannot be scored is moved here (keeping its sub-folders) next to a
/// &lt;name&gt;.reason.txt that says why. A document that vanished leaves only the reason file.
/// </summary>
public sealed class FailedArea(string directory)
{
    public string Directory { get; } = Path.GetFullPath(directory);

    /// <summary>
    /// Writes the reason and moves <paramref name="sourcePath"/> there (when it still exists and <paramref name="moveInput"/>:
    /// queue workers leave shared inputs where they are). Returns the reason file's path.
    /// </summary>
    public string Park(string sourcePath, string docId, string reason, int attempts, bool moveInput = true)
    {
        var target = Path.Combine(Directory, docId.Replace('\\', '/').TrimStart('/'));
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var reasonFile = target + ".reason.txt";
        var temp = reasonFile + ".tmp";
        File.WriteAllText(temp, $"path: {sourcePath}\nattempts: {attempts}\nreason: {reason}\nat: {DateTimeOffset.UtcNow:O}\n");
        File.Move(temp, reasonFile, overwrite: true);
        try
        {
            if (moveInput && File.Exists(sourcePath))
                File.Move(sourcePath, target, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            File.AppendAllText(reasonFile, $"not moved: {e.Message}\n");
        }
        return reasonFile;
    }
}
