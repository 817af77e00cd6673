namespace PeftOnnx.Hosting.Outbox;

/// <summary>
/// An append-only file of whole lines (results.jsonl, results.csv) that only ever grows by whole, fsync'd appends:
/// on open a torn last line (a kill in the middle of a write) is cut off, and an append that fails (a full disk, an
/// I/O error) is cut off again before the next one, so a retried batch is never written twice or after half a line.
/// </summary>
internal sealed class LineFile : IDisposable
{
    private readonly FileStream _stream;
    private long _committed;

    public LineFile(string path, bool truncate)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        // No FileStream buffer: what Append wrote is on its way to the disk when it returns, never held back to a later flush.
        _stream = new FileStream(path, truncate ? FileMode.Create : FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, bufferSize: 0);
        _committed = WholeLinesLength(_stream);
        if (_committed != _stream.Length)
        {
            _stream.SetLength(_committed);
            _stream.Flush(flushToDisk: true);
        }
    }

    /// <summary>Bytes of whole lines in the file.</summary>
    public long Length => _committed;

    /// <summary>Appends <paramref name="bytes"/> (whole lines) and fsyncs; on failure the file is left as it was.</summary>
    public void Append(ReadOnlySpan<byte> bytes)
    {
        if (_stream.Length != _committed)
            _stream.SetLength(_committed);
        _stream.Position = _committed;
        try
        {
            _stream.Write(bytes);
            _stream.Flush(flushToDisk: true);
        }
        catch
        {
            TryCutBack();
            throw;
        }
        _committed += bytes.Length;
    }

    public void Dispose() => _stream.Dispose();

    private void TryCutBack()
    {
        try
        {
            _stream.SetLength(_committed);
        }
        catch (IOException)
        {
            // Cut again before the next append (Append checks the length first).
        }
    }

    /// <summary>The length up to and including the last newline: everything after it is an unfinished line.</summary>
    private static long WholeLinesLength(FileStream stream)
    {
        var chunk = new byte[4096];
        var position = stream.Length;
        while (position > 0)
        {
            var size = (int)Math.Min(chunk.Length, position);
            position -= size;
            stream.Seek(position, SeekOrigin.Begin);
            stream.ReadExactly(chunk, 0, size);
            var newline = Array.LastIndexOf(chunk, (byte)'\n', size - 1, size);
            if (newline >= 0)
                return position + newline + 1;
        }
        return 0;
    }
}
