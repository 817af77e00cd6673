using System.Buffers.Binary;
using System.Reflection.PortableExecutable;

namespace PeftOnnx.Models;

/// <summary>
/// Reads manifest resources embedded in a .NET assembly file as plain data: the PE headers and metadata
/// tables are parsed with System.Reflection.Metadata, the assembly is never loaded or executed.
/// Each embedded resource sits in the CLI header's resources directory at its manifest offset as
/// a 4-byte little-endian length followed by the bytes.
/// </summary>
public sealed class EmbeddedResourceReader : IDisposable
{
    private readonly FileStream _file;
    private readonly Dictionary<string, EmbeddedResource> _resources;

    private EmbeddedResourceReader(FileStream file, Dictionary<string, EmbeddedResource> resources)
    {
        _file = file;
        _resources = resources;
    }

    /// <summary>Names of the resources embedded in the file (linked resources in other files are not listed).</summary>
    public IReadOnlyCollection<string> ResourceNames => _resources.Keys;

    /// <summary>Opens <paramref name="assemblyPath"/> and indexes its embedded resources. The reader owns the file handle.</summary>
    public static EmbeddedResourceReader Open(string assemblyPath)
    {
        var file = new FileStream(assemblyPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        try
        {
            return new EmbeddedResourceReader(file, Index(file, assemblyPath));
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static Dictionary<string, EmbeddedResource> Index(FileStream file, string path)
    {
        using var pe = new PEReader(file, PEStreamOptions.LeaveOpen);
        if (!pe.HasMetadata)
            throw new BadImageFormatException($"{path} is not a .NET assembly (no CLI metadata).");
        var metadata = System.Reflection.Metadata.PEReaderExtensions.GetMetadataReader(pe);
        var resourcesDir = pe.PEHeaders.CorHeader!.ResourcesDirectory;
        var index = new Dictionary<string, EmbeddedResource>(StringComparer.Ordinal);
        if (resourcesDir.Size == 0)
            return index;
        if (!pe.PEHeaders.TryGetDirectoryOffset(resourcesDir, out var dirOffset))
            throw new BadImageFormatException($"{path}: the resources directory (RVA 0x{resourcesDir.RelativeVirtualAddress:x}) lies outside every section.");

        Span<byte> lengthBytes = stackalloc byte[4];
        foreach (var handle in metadata.ManifestResources)
        {
            var resource = metadata.GetManifestResource(handle);
            if (!resource.Implementation.IsNil)
                continue; // Lives in another file or assembly.
            var name = metadata.GetString(resource.Name);
            if (resource.Offset + 4 > resourcesDir.Size)
                throw new BadImageFormatException($"{path}: resource {name} starts at offset {resource.Offset}, past the resources directory ({resourcesDir.Size} bytes).");
            var start = dirOffset + resource.Offset;
            file.Position = start;
            file.ReadExactly(lengthBytes);
            var length = BinaryPrimitives.ReadUInt32LittleEndian(lengthBytes);
            if (resource.Offset + 4 + length > resourcesDir.Size)
                throw new BadImageFormatException($"{path}: resource {name} claims {length} bytes, more than the resources directory holds.");
            index[name] = new EmbeddedResource(name, start + 4, length);
        }
        return index;
    }

    public bool Contains(string name) => _resources.ContainsKey(name);

    /// <summary>Size in bytes of resource <paramref name="name"/>.</summary>
    public long SizeOf(string name) => Find(name).Length;

    /// <summary>Copies resource <paramref name="name"/> to <paramref name="destination"/>.</summary>
    public async Task CopyToAsync(string name, Stream destination, CancellationToken cancellationToken = default)
    {
        var resource = Find(name);
        _file.Position = resource.Offset;
        var buffer = new byte[1 << 20];
        var left = resource.Length;
        while (left > 0)
        {
            var read = await _file.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), cancellationToken);
            if (read == 0)
                throw new EndOfStreamException($"{_file.Name} ends inside resource {name} ({left} bytes missing); the file is truncated.");
            await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            left -= read;
        }
    }

    private EmbeddedResource Find(string name) =>
        _resources.TryGetValue(name, out var resource)
            ? resource
            : throw new KeyNotFoundException(
                $"{_file.Name} has no embedded resource '{name}'. It has: {string.Join(", ", _resources.Keys.Order(StringComparer.Ordinal))}.");

    public void Dispose() => _file.Dispose();

    private readonly record struct EmbeddedResource(string Name, long Offset, long Length);
}
