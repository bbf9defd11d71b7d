using TorrentEdge.Engine.Common;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.PiecePicking;
using TorrentEdge.Engine.Protocol;
using TorrentEdge.Engine.Storage;

namespace TorrentEdge.Engine.Torrents;

/// <summary>Where a piece stands for us.</summary>
internal enum PieceState : byte
{
    Missing,
    Hashing,
    Have,
}

/// <summary>
/// A torrent's pieces as the loop sees them, valid once the metadata is known: what we have (verified) and want (from
/// the file priorities), each piece's state, and the pooled buffers of pieces being downloaded, capped in memory. Owned
/// by the loop; only <see cref="GetActive"/> is read by peer sessions (to copy a block straight into its buffer).
/// </summary>
internal sealed class PieceTracker
{
    private ActivePiece?[] _active = [];

    /// <summary>Verified pieces; null until the metadata is known.</summary>
    public BitField? Have { get; private set; }

    /// <summary>Whether <see cref="Have"/> reflects a check that finished (until then it is not what is on disk).</summary>
    public bool HaveChecked { get; set; }

    public bool[] Wanted { get; private set; } = [];

    public PieceState[] States { get; private set; } = [];

    /// <summary>Per piece: the highest priority of the files it overlaps (Skip: not wanted).</summary>
    public PiecePriority[] Priorities { get; private set; } = [];

    /// <summary>Pieces whose buffers the loop holds (being downloaded).</summary>
    public List<ActivePiece> ActiveList { get; } = [];

    /// <summary>The memory cap in whole pieces (<see cref="EngineOptions.MaxActivePieceBytes"/>), at least one.</summary>
    public int MaxActivePieces { get; private set; } = int.MaxValue;

    public void Initialise(int pieceCount, int pieceLength, long maxActivePieceBytes)
    {
        Have ??= new BitField(pieceCount);
        States = new PieceState[pieceCount];
        Volatile.Write(ref _active, new ActivePiece?[pieceCount]);
        Wanted = new bool[pieceCount];
        Priorities = new PiecePriority[pieceCount];
        // Never below one piece, so a torrent with huge pieces still downloads.
        MaxActivePieces = (int)Math.Clamp(maxActivePieceBytes / pieceLength, 1, int.MaxValue);
    }

    /// <summary>
    /// Piece priorities from the file priorities (a piece takes the highest of the files it overlaps; padding files
    /// count as skipped), so High pieces are picked before Normal before Low and Skip is never requested.
    /// </summary>
    public void ComputeWanted(TorrentMetainfo m, IReadOnlyList<FilePriority> filePriorities)
    {
        var files = new (long Offset, long Length)[m.Files.Count];
        var priorities = new PiecePriority[m.Files.Count];
        long offset = 0;
        for (var f = 0; f < m.Files.Count; f++)
        {
            files[f] = (offset, m.Files[f].Length);
            priorities[f] = m.Files[f].IsPadding ? PiecePriority.Skip : (PiecePriority)(byte)filePriorities[f];
            offset += m.Files[f].Length;
        }
        PiecePriorities.FromFiles(files, priorities, m.PieceLength, Priorities);
        for (var p = 0; p < Priorities.Length; p++) Wanted[p] = Priorities[p] != PiecePriority.Skip;
    }

    /// <summary>Every wanted piece is verified.</summary>
    public bool WantedDone()
    {
        if (Have is null) return false;
        for (var i = 0; i < Wanted.Length; i++)
            if (Wanted[i] && !Have[i]) return false;
        return true;
    }

    /// <summary>The buffer of a piece being downloaded (any thread); null when none.</summary>
    public ActivePiece? GetActive(int index)
    {
        var active = Volatile.Read(ref _active);
        return (uint)index < (uint)active.Length ? Volatile.Read(ref active[index]) : null;
    }

    /// <summary>The buffer of a piece a request was just picked for, made when it has none yet.</summary>
    /// <remarks>With <paramref name="layout"/> the buffer is laid out for direct writes of the piece's largest file segment.</remarks>
    public ActivePiece Activate(int index, int length, StorageLayout? layout = null)
    {
        if (GetActive(index) is { } piece) return piece;
        piece = new ActivePiece(index, length, BlockRequest.StandardBlockLength, layout?.GetDirectShift(index) ?? 0);
        ActiveList.Add(piece);
        Volatile.Write(ref _active[index], piece);
        return piece;
    }

    /// <summary>The piece's last block came: no more copies; it goes to hashing, which returns its buffer.</summary>
    public void StartHashing(ActivePiece piece)
    {
        piece.Seal();
        Volatile.Write(ref _active[piece.Index], null);
        ActiveList.Remove(piece);
        States[piece.Index] = PieceState.Hashing;
    }

    /// <summary>Returns the buffers of pieces the picker let go with nothing received (their requester left or choked).</summary>
    public void Sweep(PiecePicker picker)
    {
        for (var i = ActiveList.Count - 1; i >= 0; i--)
        {
            var piece = ActiveList[i];
            if (picker.IsStarted(piece.Index)) continue;
            Volatile.Write(ref _active[piece.Index], null);
            ActiveList.RemoveAt(i);
            Release(piece);
        }
    }

    /// <summary>Lets every buffer go (a check or a recheck starts the picture afresh).</summary>
    public void ReleaseAll()
    {
        foreach (var a in ActiveList) Release(a);
        ActiveList.Clear();
        Array.Clear(_active);
    }

    /// <summary>What a file check found on disk becomes what we have.</summary>
    public void LoadChecked(BitField have)
    {
        ReleaseAll();
        Have!.CopyFrom(have);
        for (var i = 0; i < States.Length; i++) States[i] = Have[i] ? PieceState.Have : PieceState.Missing;
        HaveChecked = true;
    }

    private static void Release(ActivePiece piece)
    {
        piece.Seal();
        AlignedBufferPool.Shared.Return(piece.Buffer);
    }
}
