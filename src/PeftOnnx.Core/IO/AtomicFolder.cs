using PeftOnnx.Core.Bundles;

namespace PeftOnnx.Core.IO;

/// <summary>
/// Writes a folder all-or-nothing: everything goes into a sibling "&lt;out&gt;.tmp-XXXXXXXX", which is renamed to
/// &lt;out&gt; only when complete and deleted on any failure, so bad input never leaves a partial folder. The one
/// atomic folder write of the toolchain (bundles, side bundles, trained models). A folder with a bundle.json is sealed
/// before the rename (<see cref="BundleFiles.Seal"/>: the sha256 of each file, checked at load).
/// </summary>
public static class AtomicFolder
{
    /// <param name="outputDirectory">The folder to write; its parent is created when missing.</param>
    /// <param name="replace">Replace an existing <paramref name="outputDirectory"/> (only once the new one is complete).</param>
    /// <param name="replaceOption">The command-line option that sets <paramref name="replace"/>, named in the error.</param>
    /// <param name="fill">Writes the folder's files into the temporary folder it is given (which exists).</param>
    public static void Write(string outputDirectory, bool replace, string replaceOption, Action<string> fill)
    {
        ArgumentException.ThrowIfNullOrEmpty(outputDirectory);
        ArgumentNullException.ThrowIfNull(fill);
        var target = Path.GetFullPath(outputDirectory.TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar));
        if (File.Exists(target))
            throw new IOException($"{target} is a file; the output needs a folder path.");
        if (Directory.Exists(target) && !replace)
            throw new IOException($"{target} already exists; pass {replaceOption} to replace it, or choose another folder.");

        var parent = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(parent);
        var tmp = Path.Combine(parent, $"{Path.GetFileName(target)}.tmp-{Guid.NewGuid().ToString("N")[..8]}");
        Directory.CreateDirectory(tmp);
        try
        {
            fill(tmp);
            if (File.Exists(Path.Combine(tmp, BundleManifest.FileName)))
                BundleFiles.Seal(tmp);
            if (Directory.Exists(target))
                Directory.Delete(target, recursive: true);
            Directory.Move(tmp, target);
        }
        catch
        {
            if (Directory.Exists(tmp))
                Directory.Delete(tmp, recursive: true);
            throw;
        }
    }
}
