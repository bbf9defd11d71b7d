using System.Buffers;
using TorrentEdge.Engine.Storage;

namespace TorrentEdge.Engine.Torrents;

/// <summary>
/// The pooled buffer of a piece being downloaded, aligned so storage can write it with direct I/O: sessions
/// copy blocks into it straight from their receive buffers; which block was requested from whom is the
/// <see cref="PiecePicking.PiecePicker"/>'s business.
/// Only <see cref="TryCopy"/> runs off the loop; it takes <see cref="_gate"/>, and the loop seals the
/// piece under the same gate before hashing, so no block lands in a buffer already handed back.
/// The first copy of a block stays: the picker names its sender as the block's deliverer, so a later copy
/// (endgame) must not change the bytes that sender answers for when the piece is hashed.
/// </summary>
internal sealed class ActivePiece
{
    private readonly Lock _gate = new();
    private readonly int _blockLength;
    private readonly bool[] _filled;
    private bool _sealed;

    public ActivePiece(int index, int length, int blockLength, int shift = 0)
    {
        Index = index;
        Length = length;
        Shift = shift;
        _blockLength = blockLength;
        _filled = new bool[(length + blockLength - 1) / blockLength];
        Buffer = AlignedBufferPool.Shared.Rent(length);
    }

    public int Index { get; }
    public int Length { get; }
    /// <summary>Where the piece starts past the buffer's aligned start (<see cref="StorageLayout.GetDirectShift"/>).</summary>
    public int Shift { get; }
    /// <summary>The pooled buffer, to return; the piece's bytes are <see cref="Data"/>.</summary>
    public AlignedBuffer Buffer { get; }
    /// <summary>The piece's bytes in <see cref="Buffer"/>.</summary>
    public Span<byte> Data => Buffer.Shifted(Shift, Length);

    /// <summary>
    /// Copies a received block into the buffer (session thread). False if it does not fit, the piece is sealed or
    /// the block already came.
    /// </summary>
    public bool TryCopy(int begin, in ReadOnlySequence<byte> data)
    {
        if (begin < 0 || begin % _blockLength != 0 || begin >= Length || data.Length != Math.Min(_blockLength, Length - begin)) return false;
        var block = begin / _blockLength;
        lock (_gate)
        {
            if (_sealed || _filled[block]) return false;
            data.CopyTo(Data[begin..]);
            _filled[block] = true;
            return true;
        }
    }

    /// <summary>Stops further copies (loop), so the buffer can be hashed and returned.</summary>
    public void Seal()
    {
        lock (_gate) _sealed = true;
    }
}
