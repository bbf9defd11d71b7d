using System.Buffers;
using TorrentEdge.Engine.Protocol;

namespace TorrentEdge.Engine.Torrents;

/// <summary>
/// A piece being downloaded: a pooled buffer that sessions copy blocks into straight from their
/// receive buffers, plus the loop's bookkeeping of which block was requested from whom.
/// Only <see cref="TryCopy"/> runs off the loop; it takes <see cref="_gate"/>, and the loop seals the
/// piece under the same gate before hashing, so no block lands in a buffer already handed back.
/// </summary>
internal sealed class ActivePiece
{
    public const int BlockLength = BlockRequest.StandardBlockLength;
    private readonly Lock _gate = new();
    private bool _sealed;

    public ActivePiece(int index, int length)
    {
        Index = index;
        Length = length;
        BlockCount = (length + BlockLength - 1) / BlockLength;
        Buffer = ArrayPool<byte>.Shared.Rent(length);
        RequestedBy = new PeerSession?[BlockCount];
        Received = new bool[BlockCount];
    }

    public int Index { get; }
    public int Length { get; }
    public int BlockCount { get; }
    public byte[] Buffer { get; }

    /// <summary>Who the block was first requested from (null: nobody, or its requester went away).</summary>
    public PeerSession?[] RequestedBy { get; }
    public bool[] Received { get; }
    public int ReceivedCount { get; set; }

    /// <summary>The peer this piece is assigned to; other peers take other pieces until endgame.</summary>
    public PeerSession? Owner { get; set; }

    /// <summary>Peers that delivered blocks of it (strikes go to them when the hash fails).</summary>
    public List<PeerSession> Contributors { get; } = new(2);

    /// <summary>Endgame duplicates: (block, peer) beyond <see cref="RequestedBy"/>.</summary>
    public List<(int Block, PeerSession Peer)>? Duplicates { get; set; }

    public int GetBlockLength(int block) => Math.Min(BlockLength, Length - block * BlockLength);

    public BlockRequest GetBlock(int block) => new(Index, block * BlockLength, GetBlockLength(block));

    /// <summary>Copies a received block into the buffer (session thread). False if it does not fit or the piece is sealed.</summary>
    public bool TryCopy(int begin, in ReadOnlySequence<byte> data)
    {
        if (begin % BlockLength != 0 || begin >= Length || data.Length != GetBlockLength(begin / BlockLength)) return false;
        lock (_gate)
        {
            if (_sealed) return false;
            data.CopyTo(Buffer.AsSpan(begin));
            return true;
        }
    }

    /// <summary>Stops further copies (loop), so the buffer can be hashed and returned.</summary>
    public void Seal()
    {
        lock (_gate) _sealed = true;
    }

    public bool HasUnrequested(out int block)
    {
        for (var b = 0; b < BlockCount; b++)
        {
            if (!Received[b] && RequestedBy[b] is null) { block = b; return true; }
        }
        block = -1;
        return false;
    }
}
