using TorrentEdge.Engine.Common;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.PiecePicking;
using TorrentEdge.Engine.Storage;
using TorrentEdge.Engine.Tests.Metainfo;
using TorrentEdge.Engine.Torrents;

namespace TorrentEdge.Engine.Tests.Torrents;

/// <summary>The piece tracker alone: wanted pieces from file priorities, the buffers of active pieces and their cap.</summary>
public sealed class PieceTrackerTests
{
    private const int PieceLength = 16 * 1024;

    // Three files: a piece straddles the first two; the third starts on a piece boundary.
    private static readonly TorrentMetainfo Meta = TorrentMetainfo.Parse(TestTorrents.Torrent(TestTorrents.MultiFileInfo("t", PieceLength,
        (["a"], PieceLength + 100), (["b"], PieceLength - 100), (["c"], 2 * PieceLength))));

    [Fact]
    public void ComputeWanted_SkippedFile_OnlyPiecesNoWantedFileTouchesAreUnwanted()
    {
        var tracker = new PieceTracker();
        tracker.Initialise(Meta.PieceCount, Meta.PieceLength, long.MaxValue);
        tracker.ComputeWanted(Meta, [FilePriority.Normal, FilePriority.Skip, FilePriority.High]);

        // Piece 1 holds the end of a (wanted) and all of b (skipped): still wanted.
        Assert.Equal([true, true, true, true], tracker.Wanted);
        Assert.Equal(PiecePriority.High, tracker.Priorities[3]);

        tracker.ComputeWanted(Meta, [FilePriority.Skip, FilePriority.Skip, FilePriority.Normal]);
        Assert.Equal([false, false, true, true], tracker.Wanted);
        var have = new BitField(Meta.PieceCount);
        have[2] = have[3] = true;
        tracker.LoadChecked(have);
        Assert.True(tracker.WantedDone());
        Assert.Equal([PieceState.Missing, PieceState.Missing, PieceState.Have, PieceState.Have], tracker.States);
    }

    [Fact]
    public void Activate_ThenHashingThenSweep_BuffersComeAndGoWithTheirPieces()
    {
        var tracker = new PieceTracker();
        tracker.Initialise(Meta.PieceCount, Meta.PieceLength, maxActivePieceBytes: PieceLength / 2);
        Assert.Equal(1, tracker.MaxActivePieces); // never below one piece

        var first = tracker.Activate(0, PieceLength);
        Assert.Same(first, tracker.Activate(0, PieceLength));
        Assert.Same(first, tracker.GetActive(0));
        tracker.StartHashing(first);
        Assert.Null(tracker.GetActive(0));
        Assert.Equal(PieceState.Hashing, tracker.States[0]);
        Assert.Empty(tracker.ActiveList);
        AlignedBufferPool.Shared.Return(first.Buffer); // hashing returns it

        // A piece the picker never started (or let go) loses its buffer on a sweep; a started one keeps it.
        var picker = new PiecePicker(Meta.TotalLength, Meta.PieceLength);
        tracker.Activate(2, PieceLength);
        tracker.Sweep(picker);
        Assert.Null(tracker.GetActive(2));
        Assert.Empty(tracker.ActiveList);
        Assert.Null(tracker.GetActive(99));
    }
}
