using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace PeftOnnx.Core.Files;

/// <summary>
/// Opens files that come from users or from the network for reading, refusing anything but a regular file: opening a
/// FIFO blocks until a writer appears, and a device never ends. On Linux the file is opened with O_NONBLOCK (so even a
/// FIFO swapped in after a check cannot block) and its type is read from the open descriptor, so no check-then-open
/// race remains. Symbolic links are followed: the target must be a regular file.
/// </summary>
public static partial class RegularFile
{
    private const int ReadOnly = 0, NonBlocking = 0x800, CloseOnExec = 0x80000; // O_RDONLY, O_NONBLOCK, O_CLOEXEC (Linux)
    private const int Enoent = 2, Eperm = 1, Eacces = 13, Enotdir = 20, Ewouldblock = 11;
    private const int SharedLock = 1, NoWait = 4; // LOCK_SH, LOCK_NB

    /// <summary>An open handle for reading; throws <see cref="IOException"/> naming the kind when the path is not a regular file.</summary>
    public static SafeFileHandle OpenHandle(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!OperatingSystem.IsLinux())
        {
            Require(path);
            return File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        var fd = Open(path, ReadOnly | NonBlocking | CloseOnExec, 0);
        if (fd < 0)
            throw OpenError(path, Marshal.GetLastPInvokeError());
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            // O_NONBLOCK changes nothing for a regular file, which is all this lets through.
            var kind = FileKind.OfDescriptor(fd);
            if (kind != FileKind.Kind.Regular)
                throw NotRegular(path, kind);
            // The advisory lock .NET takes for FileShare.Read: a file another process holds with FileShare.None is refused, as File.OpenRead does.
            if (Flock(fd, SharedLock | NoWait) != 0 && Marshal.GetLastPInvokeError() == Ewouldblock)
                throw new IOException($"{path} is locked by another process (still being written?); it is read once the lock is released.");
            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>A read-only stream over <see cref="OpenHandle"/>.</summary>
    public static FileStream OpenRead(string path, int bufferSize = 4096) => new(OpenHandle(path), FileAccess.Read, bufferSize);

    /// <summary>
    /// The whole file, refused before allocating when it is longer than <paramref name="maxBytes"/>. <paramref name="pinned"/>
    /// allocates it on the pinned object heap, for native code that keeps a pointer into it (an ORT-format model).
    /// </summary>
    public static byte[] ReadAllBytes(string path, long maxBytes = int.MaxValue, bool pinned = false)
    {
        using var handle = OpenHandle(path);
        var length = RandomAccess.GetLength(handle);
        if (length > Math.Min(maxBytes, Array.MaxLength))
            throw new IOException($"{path} is {length:N0} bytes, more than the limit of {Math.Min(maxBytes, Array.MaxLength):N0} bytes for this kind of file.");
        var bytes = pinned ? GC.AllocateUninitializedArray<byte>((int)length, pinned: true) : new byte[length];
        if (pinned)
            AdviseHugePages(bytes);
        var done = 0;
        while (done < bytes.Length)
        {
            var read = RandomAccess.Read(handle, bytes.AsSpan(done), done);
            if (read == 0)
                throw new IOException($"{path} shrank while it was read ({done:N0} of {length:N0} bytes); try again once it is written.");
            done += read;
        }
        return bytes;
    }

    /// <summary>The whole file as UTF-8 text (a byte order mark is skipped, invalid bytes become U+FFFD as File.ReadAllText does).</summary>
    public static string ReadAllText(string path, long maxBytes = int.MaxValue)
    {
        var bytes = ReadAllBytes(path, maxBytes);
        var body = bytes.AsSpan();
        if (body.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
            body = body[3..];
        return Encoding.UTF8.GetString(body);
    }

    /// <summary>
    /// Throws unless <paramref name="path"/> is a regular file: for paths handed to native code that opens them itself
    /// (ONNX Runtime and model.onnx), where the check is all that can be done.
    /// </summary>
    public static void Require(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var kind = FileKind.Of(path);
        if (kind == FileKind.Kind.Missing)
            throw new FileNotFoundException($"{path} does not exist.", path);
        if (kind != FileKind.Kind.Regular)
            throw NotRegular(path, kind);
    }

    private static IOException NotRegular(string path, FileKind.Kind kind) =>
        new($"{path} is not a regular file ({Describe(kind)}); only regular files are read, so replace it with the file itself.");

    private static string Describe(FileKind.Kind kind) => kind switch
    {
        FileKind.Kind.Fifo => "a FIFO",
        FileKind.Kind.Socket => "a socket",
        FileKind.Kind.CharacterDevice => "a character device",
        FileKind.Kind.BlockDevice => "a block device",
        FileKind.Kind.Directory => "a directory",
        _ => "an unknown kind of file",
    };

    private static Exception OpenError(string path, int errno) => errno switch
    {
        Enoent or Enotdir => new FileNotFoundException($"{path} does not exist.", path),
        Eacces or Eperm => new UnauthorizedAccessException($"{path} cannot be read: {Marshal.GetPInvokeErrorMessage(errno)}."),
        _ => new IOException($"{path} cannot be opened: {Marshal.GetPInvokeErrorMessage(errno)}."),
    };

    /// <summary>
    /// Asks Linux to back a large fresh array with 2 MB pages before it is filled: reading a 24 MB model into 4 kB pages
    /// takes ~6,000 page faults, most of its read time on a virtual machine (85 ms against 24-62 ms with the hint, measured
    /// here). Only a hint (transparent huge pages in "madvise" or "always" mode); where it is refused nothing changes.
    /// </summary>
    private static void AdviseHugePages(byte[] bytes)
    {
        const long HugePage = 2 << 20;
        const int MadvHugePage = 14; // MADV_HUGEPAGE
        if (!OperatingSystem.IsLinux() || bytes.Length < 2 * HugePage)
            return;
        var handle = GCHandle.Alloc(bytes, GCHandleType.Pinned); // already pinned (pinned heap): only for its address
        try
        {
            var address = (long)handle.AddrOfPinnedObject();
            var start = (address + HugePage - 1) & ~(HugePage - 1);
            var end = (address + bytes.Length) & ~(HugePage - 1);
            if (end > start)
                _ = Madvise((nint)start, (nuint)(end - start), MadvHugePage);
        }
        finally
        {
            handle.Free();
        }
    }

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(nint address, nuint length, int advice);

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int Flock(int fd, int operation);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags, int mode);
}
