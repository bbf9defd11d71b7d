using System.Globalization;

namespace TorrentEdge.PeerWorker.IntegrationEvents;

/// <summary>
/// Hands out each torrent's event sequence numbers. They must keep growing when the torrent moves to another replica,
/// so the high-water mark lives in the shared resume folder (<c>&lt;hash&gt;.seq</c>): a replica reserves a block of
/// <see cref="BlockSize"/> numbers by writing the block's end there, and uses them from memory. One owner at a time
/// writes a torrent's file; the numbers a dead replica left unused are skipped (gaps are fine, going back is not).
/// Without a directory (unit tests) the marks live in memory.
/// </summary>
public sealed class TorrentSequences(string? directory)
{
    public const long BlockSize = 10_000;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, (long Next, long End)> _blocks = new(StringComparer.Ordinal);

    /// <summary>The next sequence number of <paramref name="infoHash"/>.</summary>
    public long Next(string infoHash)
    {
        lock (_gate)
        {
            if (!_blocks.TryGetValue(infoHash, out var block) || block.Next > block.End)
            {
                var start = ReadMark(infoHash) + 1;
                block = (start, start + BlockSize - 1);
                WriteMark(infoHash, block.End);
            }
            _blocks[infoHash] = (block.Next + 1, block.End);
            return block.Next;
        }
    }

    /// <summary>Forgets the block of a torrent this replica gave up, so taking it back later reserves above the new owner's.</summary>
    public void Release(string infoHash)
    {
        lock (_gate)
        {
            _blocks.Remove(infoHash);
        }
    }

    private readonly Dictionary<string, long> _memoryMarks = new(StringComparer.Ordinal);

    private string PathOf(string infoHash) => Path.Combine(directory!, infoHash + ".seq");

    private long ReadMark(string infoHash)
    {
        if (directory is null)
        {
            return _memoryMarks.GetValueOrDefault(infoHash);
        }
        try
        {
            return long.TryParse(File.ReadAllText(PathOf(infoHash)).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var mark) ? mark : 0;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return 0;
        }
    }

    private void WriteMark(string infoHash, long mark)
    {
        if (directory is null)
        {
            _memoryMarks[infoHash] = mark;
            return;
        }
        Directory.CreateDirectory(directory);
        // Written beside and renamed over: a crash leaves the old mark or the new one, never half a number.
        var temporary = PathOf(infoHash) + ".tmp";
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            file.Write(System.Text.Encoding.ASCII.GetBytes(mark.ToString(CultureInfo.InvariantCulture)));
            file.Flush(flushToDisk: true);
        }
        File.Move(temporary, PathOf(infoHash), overwrite: true);
    }
}
