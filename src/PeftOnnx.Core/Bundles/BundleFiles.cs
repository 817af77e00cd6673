using System.Security.Cryptography;
using PeftOnnx.Core.Hashing;
using PeftOnnx.Core.Json;

namespace PeftOnnx.Core.Bundles;

/// <summary>
/// The files of a bundle folder and their integrity. The exporter seals a finished folder (the sha256 of every file
/// beside bundle.json goes into its <c>files</c>); the runtime resolves the names bundle.json gives (plain file names in
/// the folder: no "..", no absolute paths, no links leading out) and verifies the hashes before anything runs.
/// The adapters/ folder of a side bundle is not sealed: adapters come and go while it is served, and each one is
/// checked as it loads.
/// </summary>
public static class BundleFiles
{
    /// <summary>Records the sha256 of every file beside bundle.json in its <c>files</c>; returns the sealed manifest.</summary>
    public static BundleManifest Seal(string folder)
    {
        var path = Path.Combine(folder, BundleManifest.FileName);
        var manifest = PeftJson.Load<BundleManifest>(path);
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(folder))
        {
            var name = Path.GetFileName(file);
            if (name != BundleManifest.FileName)
                files[name] = FileSha256.Of(file);
        }
        var sealedManifest = manifest with { Files = files };
        PeftJson.Save(path, sealedManifest);
        return sealedManifest;
    }

    /// <summary>
    /// The full path of file <paramref name="name"/> that bundle.json names as <paramref name="field"/>; throws
    /// <see cref="InvalidDataException"/> when the name is not a plain file name of the folder or is a link out of it.
    /// </summary>
    public static string Resolve(string folder, string name, string field)
    {
        ArgumentNullException.ThrowIfNull(name);
        var manifest = Path.Combine(folder, BundleManifest.FileName);
        if (name.Length == 0 || name is "." or ".." || name.IndexOfAny(['/', '\\']) >= 0 || Path.IsPathRooted(name))
            throw new InvalidDataException($"{manifest}: \"{field}\" is \"{name}\"; it must be the name of a file in the bundle folder (no folders, \"..\" or absolute paths).");
        var full = Path.Combine(Path.GetFullPath(folder), name);
        var info = new FileInfo(full);
        if (info.LinkTarget is not null)
        {
            var target = info.ResolveLinkTarget(returnFinalTarget: true)?.FullName;
            if (target is null || !string.Equals(Path.GetDirectoryName(target), Path.GetDirectoryName(full), StringComparison.Ordinal))
                throw new InvalidDataException($"{manifest}: \"{field}\" names {name}, a link to {info.LinkTarget} outside the bundle folder; copy the file into the bundle instead.");
        }
        return full;
    }

    /// <summary>
    /// Checks every file bundle.json lists against its recorded sha256, and that the files the runtime reads
    /// (<paramref name="required"/>: the model, the vocabulary...) are among them. Returns false for a bundle that
    /// records no hashes (exported before they were recorded), which the caller reports; throws
    /// <see cref="InvalidDataException"/> naming the file and both hashes on any mismatch. Files in
    /// <paramref name="checkedOnRead"/> must be listed but are not read here: the caller reads them once and checks the
    /// bytes it uses (<see cref="VerifyContent"/>), so nothing can change between the check and the use.
    /// </summary>
    public static bool Verify(string folder, BundleManifest manifest, IEnumerable<string> required, IReadOnlyCollection<string>? checkedOnRead = null)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(required);
        var path = Path.Combine(folder, BundleManifest.FileName);
        if (manifest.Files is not { Count: > 0 } files)
            return false;
        foreach (var name in required)
        {
            if (!files.ContainsKey(name))
                throw MissingHash(path, name);
        }
        foreach (var (name, expected) in files)
        {
            var file = Resolve(folder, name, "files");
            if (!File.Exists(file))
                throw new InvalidDataException($"{path} lists {name}, which is missing; the bundle is incomplete: copy it again or re-export it.");
            if (checkedOnRead?.Contains(name) != true)
                RequireMatch(file, FileSha256.Of(file), expected);
        }
        return true;
    }

    /// <summary>
    /// Checks the bytes read from bundle file <paramref name="name"/> against the sha256 bundle.json records for it;
    /// a bundle without hashes passes (<see cref="Verify"/> reported it).
    /// </summary>
    public static void VerifyContent(string folder, BundleManifest manifest, string name, ReadOnlySpan<byte> content)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        if (manifest.Files is not { Count: > 0 } files)
            return;
        if (!files.TryGetValue(name, out var expected))
            throw MissingHash(Path.Combine(folder, BundleManifest.FileName), name);
        RequireMatch(Path.Combine(folder, name), Convert.ToHexStringLower(SHA256.HashData(content)), expected);
    }

    private static InvalidDataException MissingHash(string manifestPath, string name) =>
        new($"{manifestPath} records no sha256 for {name}, which the runtime reads; the bundle was edited after export: re-export it, or pass --skip-verify to run it anyway.");

    private static void RequireMatch(string file, string actual, string expected)
    {
        if (!string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException(
                $"{file} does not match bundle.json: its sha256 is {actual}, bundle.json records {expected}; the file was changed or damaged after export. " +
                "Re-export or copy the bundle again, or pass --skip-verify to run it anyway.");
        }
    }
}
