using TorrentEdge.Engine.Common;
using TorrentEdge.Engine.Storage;

namespace TorrentEdge.Engine.Tests.Storage;

public class StorageLayoutTests
{
    private static StorageLayout Layout(int pieceLength, params long[] lengths)
    {
        var total = lengths.Sum();
        var pieces = (int)((total + pieceLength - 1) / pieceLength);
        return new StorageLayout(lengths.Select((l, i) => new StorageFile($"f{i}", l)).ToArray(), pieceLength, new byte[pieces * 20]);
    }

    [Fact]
    public void GetDirectShift_SingleFile_Zero_FileAtOddOffset_ItsOffsetWithinAPage()
    {
        Assert.Equal(0, Layout(65536, 1_000_000).GetDirectShift(3));
        // One byte, then a large file: its bytes sit one past a page boundary in the torrent, file offsets start at 0.
        var layout = Layout(65536, 1, 1_000_000);
        Assert.Equal(4095, layout.GetDirectShift(0)); // the large file's segment (65,535 bytes) decides
        Assert.Equal(4095, layout.GetDirectShift(5)); // wholly inside it at file offset 5 x 65536 - 1
        // Two segments in one piece: the larger one's alignment wins.
        var split = Layout(65536, 60_000, 5_536 + 65536);
        Assert.Equal(0, split.GetDirectShift(0)); // 60,000 bytes of the first file, at file offset 0
        Assert.Equal((65536 - 60_000) & 4095, split.GetDirectShift(1));
    }

    [Fact]
    public void Constructor_OddSizes_ComputesTotalsAndLastPiece()
    {
        var layout = Layout(16, 5, 0, 30, 0, 1);

        Assert.Equal(36, layout.TotalLength);
        Assert.Equal(3, layout.PieceCount);
        Assert.Equal(16, layout.GetPieceLength(0));
        Assert.Equal(4, layout.GetPieceLength(2));
        Assert.Equal(5, layout.GetFileOffset(2));
        Assert.Equal(35, layout.GetFileOffset(4));
    }

    [Fact]
    public void Constructor_WrongHashCount_Throws()
    {
        Assert.Throws<ArgumentException>(() =>
            new StorageLayout([new StorageFile("a", 100)], 16, new byte[20]));
    }

    [Fact]
    public void Map_PieceStraddlingFilesAndEmptyFiles_YieldsSegmentsInOrder()
    {
        var layout = Layout(16, 5, 0, 30, 0, 1);

        var segments = new List<FileSegment>();
        foreach (var s in layout.Map(0, 16)) segments.Add(s);
        Assert.Equal([new FileSegment(0, 0, 5, 0), new FileSegment(2, 0, 11, 5)], segments);

        segments.Clear();
        foreach (var s in layout.Map(32, 4)) segments.Add(s);
        Assert.Equal([new FileSegment(2, 27, 3, 0), new FileSegment(4, 0, 1, 3)], segments);
    }

    [Fact]
    public void Map_RangePastEnd_Throws()
    {
        var layout = Layout(16, 5, 30);
        Assert.Throws<ArgumentOutOfRangeException>(() => layout.Map(30, 6));
    }

    [Fact]
    public void Map_EveryByte_CoversContentExactlyOnce()
    {
        var layout = Layout(7, 3, 0, 11, 1, 0, 9, 2);
        for (long start = 0; start < layout.TotalLength; start++)
        {
            for (var length = 0; start + length <= layout.TotalLength; length++)
            {
                var covered = 0;
                foreach (var s in layout.Map(start, length))
                {
                    Assert.Equal(covered, s.BufferOffset);
                    Assert.Equal(start + covered, layout.GetFileOffset(s.FileIndex) + s.FileOffset);
                    Assert.True(s.FileOffset + s.Length <= layout.Files[s.FileIndex].Length);
                    covered += s.Length;
                }
                Assert.Equal(length, covered);
            }
        }
    }

    [Fact]
    public void GetFilePieceRange_EmptyAndStraddlingFiles_ReportsTouchedPieces()
    {
        var layout = Layout(16, 5, 0, 30, 1);

        Assert.Equal((0, 0), layout.GetFilePieceRange(0));
        var empty = layout.GetFilePieceRange(1);
        Assert.True(empty.Last < empty.First);
        Assert.Equal((0, 2), layout.GetFilePieceRange(2));
        Assert.Equal((2, 2), layout.GetFilePieceRange(3));
    }

    [Fact]
    public void GetVerifiedBytesPerFile_EdgePieces_CountsOnlyBytesInsideEachFile()
    {
        // Pieces: [0,16) [16,32) [32,36). Files: a=[0,5) b=[5,5) c=[5,35) d=[35,36).
        var layout = Layout(16, 5, 0, 30, 1);
        var have = new BitField(3);
        have[0] = true;
        have[2] = true;
        var bytes = new long[4];

        layout.GetVerifiedBytesPerFile(have, bytes);

        Assert.Equal([5, 0, 11 + 3, 1], bytes);
    }
}
