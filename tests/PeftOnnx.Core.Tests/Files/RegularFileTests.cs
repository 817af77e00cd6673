using PeftOnnx.Core.Files;
using PeftOnnx.Tests;

namespace PeftOnnx.Core.Tests.Files;

public sealed class RegularFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("regular-file-test").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Reads_a_regular_file_and_a_link_to_one()
    {
        var path = Path.Combine(_dir, "vocab.txt");
        File.WriteAllText(path, "[PAD]\n[UNK]\n");
        var link = Path.Combine(_dir, "link.txt");
        File.CreateSymbolicLink(link, path);
        Assert.Equal("[PAD]\n[UNK]\n", RegularFile.ReadAllText(path));
        Assert.Equal(File.ReadAllBytes(path), RegularFile.ReadAllBytes(link));
        using var stream = RegularFile.OpenRead(path);
        Assert.Equal(12, stream.Length);
    }

    [Fact]
    public void A_fifo_is_refused_at_once_with_its_kind()
    {
        if (!OperatingSystem.IsLinux())
            return;
        var fifo = SpecialFiles.Fifo(Path.Combine(_dir, "model.onnx"));
        var error = SpecialFiles.Promptly(() => Assert.Throws<IOException>(() => RegularFile.ReadAllBytes(fifo)));
        Assert.Equal($"{fifo} is not a regular file (a FIFO); only regular files are read, so replace it with the file itself.", error.Message);
        Assert.Contains("a FIFO", Assert.Throws<IOException>(() => RegularFile.Require(fifo)).Message, StringComparison.Ordinal);
        // a link to a FIFO is no way around it
        var link = Path.Combine(_dir, "link.onnx");
        File.CreateSymbolicLink(link, fifo);
        SpecialFiles.Promptly(() => Assert.Throws<IOException>(() => RegularFile.OpenRead(link)));
    }

    [Fact]
    public void Devices_directories_and_missing_files_are_refused()
    {
        if (!OperatingSystem.IsLinux())
            return;
        Assert.Contains("a character device", Assert.Throws<IOException>(() => RegularFile.ReadAllBytes("/dev/zero")).Message, StringComparison.Ordinal);
        Assert.Contains("a directory", Assert.Throws<IOException>(() => RegularFile.OpenRead(_dir)).Message, StringComparison.Ordinal);
        Assert.Throws<FileNotFoundException>(() => RegularFile.OpenRead(Path.Combine(_dir, "missing.json")));
    }

    [Fact]
    public void A_file_held_exclusively_by_a_writer_is_refused_as_File_OpenRead_refuses_it()
    {
        if (!OperatingSystem.IsLinux())
            return;
        var path = Path.Combine(_dir, "writing.txt");
        File.WriteAllText(path, "half written");
        using (new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
            Assert.Contains("is locked by another process", Assert.Throws<IOException>(() => RegularFile.OpenRead(path)).Message, StringComparison.Ordinal);
        Assert.Equal("half written", RegularFile.ReadAllText(path));
    }

    [Fact]
    public void A_file_over_the_limit_is_refused_before_it_is_read()
    {
        var path = Path.Combine(_dir, "big.bin");
        File.WriteAllBytes(path, new byte[1000]);
        var error = Assert.Throws<IOException>(() => RegularFile.ReadAllBytes(path, maxBytes: 999));
        Assert.Contains("1,000 bytes, more than the limit of 999", error.Message, StringComparison.Ordinal);
    }
}
