using System.Buffers;
using System.Security.Cryptography;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Protocol;

namespace TorrentEdge.Engine.Torrents;

/// <summary>What the metadata fetcher needs to know of a peer.</summary>
internal interface IMetadataSource
{
    /// <summary>The peer's ut_metadata id (0: it offers none).</summary>
    byte RemoteUtMetadataId { get; }

    /// <summary>The metadata_size it announced (0: none or implausible).</summary>
    int RemoteMetadataSize { get; }

    /// <summary>Whether we asked it for pieces of the current buffer.</summary>
    bool MetadataRequested { get; set; }

    bool IsClosed { get; }
}

/// <summary>What became of a ut_metadata data message.</summary>
internal enum MetadataDataOutcome
{
    /// <summary>Not for the buffer being filled (unsolicited, an old size, a piece we had): dropped quietly.</summary>
    Ignored,
    /// <summary>Its total_size is not the size its sender announced: the sender broke the protocol.</summary>
    ProtocolError,
    Stored,
    /// <summary>The last piece: <see cref="MetadataFetcher{TPeer}.TakeCompleted"/> has the result.</summary>
    Complete,
}

/// <summary>
/// Fetches a magnet's info dictionary (BEP 9) from the peers that offer it, owned by the torrent's loop. A peer's
/// metadata_size is only its claim until the info-hash checks out, so no single peer can hold the magnet: the buffer
/// takes the size most peers announce (ties: the earliest peer), only peers announcing that size are asked, data is
/// taken only from peers asked, and the buffer is dropped when no connected peer announces its size any more or when
/// its peers answer nothing for two rounds while others offer another size (which is then tried first).
/// </summary>
internal sealed class MetadataFetcher<TPeer>(InfoHash infoHash) where TPeer : class, IMetadataSource
{
    /// <summary>The largest info dictionary we accept (16 MiB, far beyond any real torrent's).</summary>
    public const int MaxMetadataSize = 16 * 1024 * 1024;

    private const int IdleRoundsToAbandon = 2;
    private readonly HashSet<int> _abandonedSizes = [];
    private readonly List<TPeer> _sources = [];
    private byte[]? _buffer;
    private bool[]? _have;
    private TPeer?[]? _from;
    private int _round;
    private int _received;
    private int _receivedAtLastRound;
    private int _idleRounds;

    /// <summary>The size of the buffer being filled (0: none yet).</summary>
    public int CurrentSize => _buffer?.Length ?? 0;

    /// <summary>
    /// One round: chooses (again) which size to fetch and which source to ask; writes the pieces to request from it into
    /// <paramref name="missing"/>. <paramref name="tick"/>: a periodic round, which counts towards a size's silence.
    /// Null when no connected peer offers metadata.
    /// </summary>
    public TPeer? NextRound(IEnumerable<TPeer> peers, bool tick, List<int> missing)
    {
        missing.Clear();
        _sources.Clear();
        foreach (var p in peers)
            if (p.RemoteUtMetadataId != 0 && p.RemoteMetadataSize > 0 && !p.IsClosed) _sources.Add(p);
        if (_sources.Count == 0) return null;
        if (_buffer is { } current)
        {
            var size = current.Length;
            var backed = _sources.Exists(p => p.RemoteMetadataSize == size);
            if (tick) _idleRounds = _received == _receivedAtLastRound ? _idleRounds + 1 : 0;
            _receivedAtLastRound = _received;
            var silent = _idleRounds >= IdleRoundsToAbandon && _sources.Exists(p => p.RemoteMetadataSize != size);
            if (!backed || silent)
            {
                // The size came from peers that left, or that answer nothing while others offer another size: most
                // likely a liar's. Drop what we have of it; a silent size is tried again only after the others.
                if (silent) _abandonedSizes.Add(size);
                Reset();
            }
        }
        if (_buffer is null)
        {
            var size = ChooseSize();
            _buffer = new byte[size];
            _have = new bool[MetadataMessage.PieceCount(size)];
            _from = new TPeer?[_have.Length];
        }
        var length = _buffer.Length;
        _sources.RemoveAll(p => p.RemoteMetadataSize != length);
        var source = _sources[_round++ % _sources.Count];
        source.MetadataRequested = true;
        for (var i = 0; i < _have!.Length; i++)
            if (!_have[i]) missing.Add(i);
        return source;
    }

    /// <summary>The size most sources announce, leaving out sizes given up on while others remain.</summary>
    private int ChooseSize()
    {
        if (_sources.TrueForAll(p => _abandonedSizes.Contains(p.RemoteMetadataSize))) _abandonedSizes.Clear();
        var best = 0;
        var bestVotes = 0;
        foreach (var candidate in _sources)
        {
            var size = candidate.RemoteMetadataSize;
            if (size == best || _abandonedSizes.Contains(size)) continue;
            var votes = _sources.Count(p => p.RemoteMetadataSize == size);
            if (votes > bestVotes)
            {
                best = size;
                bestVotes = votes;
            }
        }
        return best;
    }

    /// <summary>A data message from <paramref name="peer"/>.</summary>
    public MetadataDataOutcome OnData(TPeer peer, in MetadataMessage message)
    {
        if (_buffer is null || _have is null || _from is null) return MetadataDataOutcome.Ignored; // unsolicited
        if (message.TotalSize != peer.RemoteMetadataSize) return MetadataDataOutcome.ProtocolError; // not even its own size
        // Asked for under a size we have since dropped, or never asked: not for this buffer.
        if (message.TotalSize != _buffer.Length || !peer.MetadataRequested) return MetadataDataOutcome.Ignored;
        var piece = message.Piece;
        if (_have[piece]) return MetadataDataOutcome.Ignored;
        message.Data.CopyTo(_buffer.AsSpan(piece * MetadataMessage.PieceLength));
        _have[piece] = true;
        _from[piece] = peer;
        _received++;
        return Array.TrueForAll(_have, h => h) ? MetadataDataOutcome.Complete : MetadataDataOutcome.Stored;
    }

    /// <summary>
    /// Takes the completed buffer: true with its bytes when they hash to the info-hash; false with the peers that
    /// delivered any of it when they do not (each suspect). The next round starts over either way.
    /// </summary>
    public bool TakeCompleted(out byte[] bytes, out TPeer[] contributors)
    {
        bytes = _buffer!;
        var from = _from!;
        Reset();
        if (SHA1.HashData(bytes).AsSpan().SequenceEqual(infoHash.ToArray()))
        {
            _abandonedSizes.Clear();
            contributors = [];
            return true;
        }
        contributors = from.Where(p => p is not null).Distinct().ToArray()!;
        return false;
    }

    private void Reset()
    {
        _buffer = null;
        _have = null;
        _from = null;
        _received = 0;
        _receivedAtLastRound = 0;
        _idleRounds = 0;
    }
}
