using System.Text;
using TorrentEdge.Engine.Fuzzing;
using TorrentEdge.Engine.Metainfo;
using static TorrentEdge.Engine.Tests.Metainfo.TestTorrents;

namespace TorrentEdge.Engine.Tests.Metainfo;

/// <summary>Files whose paths collide are renamed apart; found by the fuzz targets' time and allocation budgets.</summary>
public class DuplicatePathTests
{
    [Fact]
    public async Task Parse_DuplicateNamesAtTheLengthLimit_RenamesThemApart()
    {
        // Two files named with 255 bytes: the "_1" suffix made the name too long, shortening cut it off again, and the
        // renaming loop never ended (corpus/metainfo/crash-long-duplicate-names.torrent).
        var name = new string('a', PathSanitizer.MaxSegmentBytes);
        var torrent = Torrent(MultiFileInfo("dir", 16384, ([name], 10), ([name], 10), ([name + ".txt"], 10), ([name + ".txt"], 10)));

        var m = await Task.Run(() => TorrentMetainfo.Parse(torrent), TestContext.Current.CancellationToken)
            .WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        Assert.Equal(4, m.Files.Select(f => f.Path).Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.All(m.Files, f => Assert.InRange(Encoding.UTF8.GetByteCount(f.PathSegments[^1]), 1, PathSanitizer.MaxSegmentBytes));
        Assert.EndsWith("_1", m.Files[1].PathSegments[^1]);
        Assert.EndsWith("_1.txt", m.Files[3].PathSegments[^1]);
    }

    [Fact]
    public void Parse_ThousandsOfIdenticalPaths_RenamesInLinearMemory()
    {
        // 2,400 files all named "a": each rename counted up from 1 again, so 2,400 copies cost 2.9 million tries and
        // 900 MB of strings for a 58 KB torrent (corpus/metainfo/crash-identical-paths.torrent).
        var files = Enumerable.Range(0, 2400).Select(i => (Path: new[] { "a" }, Length: (long)(i == 0 ? 1 : 0))).ToArray();
        var torrent = Torrent(MultiFileInfo("dir", 16384, files));

        var before = GC.GetAllocatedBytesForCurrentThread();
        var m = TorrentMetainfo.Parse(torrent);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(2400, m.Files.Select(f => f.Path).Distinct().Count());
        Assert.Equal("dir/a_2399", m.Files[^1].Path);
        Assert.InRange(allocated, 0, (long)FuzzTargets.AllocationPerInputByte * torrent.Length);
    }
}
