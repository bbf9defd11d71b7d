using TorrentEdge.Engine.PiecePicking;

namespace TorrentEdge.Engine.Tests.PiecePicking;

public class PiecePrioritiesTests
{
    [Fact]
    public void FromFiles_PieceSharedBySkippedAndWantedFile_TakesTheHigherPriority()
    {
        // Pieces of 100 bytes; files: [0,150) skip, [150,150) empty high, [150,250) high, [250,400) low.
        (long, long)[] files = [(0, 150), (150, 0), (150, 100), (250, 150)];
        PiecePriority[] filePriorities = [PiecePriority.Skip, PiecePriority.High, PiecePriority.High, PiecePriority.Low];
        var pieces = new PiecePriority[4];

        PiecePriorities.FromFiles(files, filePriorities, 100, pieces);

        Assert.Equal([PiecePriority.Skip, PiecePriority.High, PiecePriority.High, PiecePriority.Low], pieces);
    }

    [Fact]
    public void FromFiles_MismatchedCounts_Throws()
    {
        Assert.Throws<ArgumentException>(() => PiecePriorities.FromFiles([(0L, 10L)], [], 10, new PiecePriority[1]));
    }
}
