using System.Runtime.InteropServices;

namespace PeftOnnx.Core.Files;

/// <summary>
/// The type of a file system entry (regular file, FIFO, socket, device...). .NET reports a FIFO as a
/// "Normal" zero-length file, and opening one for reading blocks until a writer appears, so readers ask the
/// kernel first (<see cref="RegularFile"/> opens without that race). Linux only (statx); elsewhere every existing
/// file is assumed regular.
/// </summary>
public static partial class FileKind
{
    public enum Kind
    {
        Regular,
        Directory,
        Fifo,
        Socket,
        CharacterDevice,
        BlockDevice,
        Missing,
        Unknown,
    }

    private const int AtFdCwd = -100;
    private const uint StatxType = 0x1;
    private const int StatxModeOffset = 28; // struct statx: u32 mask, u32 blksize, u64 attributes, u32 nlink, u32 uid, u32 gid, u16 mode
    private const int StatxSize = 256;
    private const int Enoent = 2;
    private const int AtEmptyPath = 0x1000;

    public static Kind Of(string path)
    {
        if (!OperatingSystem.IsLinux())
            return File.Exists(path) ? Kind.Regular : Directory.Exists(path) ? Kind.Directory : Kind.Missing;
        Span<byte> buffer = stackalloc byte[StatxSize];
        int rc;
        unsafe
        {
            fixed (byte* p = buffer)
                rc = Statx(AtFdCwd, path, 0, StatxType, p);
        }
        if (rc != 0)
            return Marshal.GetLastPInvokeError() == Enoent ? Kind.Missing : Kind.Unknown;
        return FromMode(BitConverter.ToUInt16(buffer.Slice(StatxModeOffset, 2)));
    }

    /// <summary>The kind of an open descriptor (statx with AT_EMPTY_PATH); Linux only.</summary>
    internal static Kind OfDescriptor(int fd)
    {
        Span<byte> buffer = stackalloc byte[StatxSize];
        int rc;
        unsafe
        {
            fixed (byte* p = buffer)
                rc = Statx(fd, "", AtEmptyPath, StatxType, p);
        }
        return rc == 0 ? FromMode(BitConverter.ToUInt16(buffer.Slice(StatxModeOffset, 2))) : Kind.Unknown;
    }

    /// <summary>The kind encoded in the S_IFMT bits of a stat mode.</summary>
    private static Kind FromMode(ushort mode) =>
        (mode & 0xF000) switch
        {
            0x8000 => Kind.Regular,
            0x4000 => Kind.Directory,
            0x1000 => Kind.Fifo,
            0xC000 => Kind.Socket,
            0x2000 => Kind.CharacterDevice,
            0x6000 => Kind.BlockDevice,
            _ => Kind.Unknown,
        };

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int Statx(int dirfd, string path, int flags, uint mask, byte* buffer);
}
