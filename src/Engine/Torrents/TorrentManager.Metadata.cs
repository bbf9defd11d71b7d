using System.Buffers;
using System.Security.Cryptography;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Protocol;

namespace TorrentEdge.Engine.Torrents;

/// <summary>
/// The extension protocol (BEP 10) and metadata exchange (BEP 9) through the codecs in <c>Protocol</c>
/// (<see cref="ExtensionHandshake"/>, <see cref="MetadataMessage"/>): fetch the info dictionary for a magnet,
/// serve it otherwise.
/// </summary>
/// <remarks>
/// Malformed input is the peer's fault and costs it the connection, never the loop: an extended message
/// without the extension bit negotiated, a handshake that is not a bencoded dictionary, a ut_metadata message
/// the codec rejects, or data whose total_size is not the size we are fetching closes the peer and is counted
/// in <see cref="TorrentStatus.ProtocolErrors"/>. Fields BEP 10 makes optional may be missing (a peer without
/// metadata_size is simply no metadata source). Assembled metadata that fails the info-hash is discarded and
/// every peer that delivered a piece of it gets a strike and is disconnected.
/// A peer's metadata_size is only its claim until the info-hash checks out, so it never holds the magnet: the
/// buffer takes the size most peers announce, and is dropped when no connected peer announces its size any
/// more or when its peers answer nothing for two rounds while others offer another size (that size is then
/// tried last).
/// </remarks>
public sealed partial class TorrentManager
{
    /// <summary>Our id for ut_metadata messages sent to us.</summary>
    private const byte LocalUtMetadataId = 3;
    private const int MaxMetadataSize = 16 * 1024 * 1024;
    private byte[]? _metadata;
    private bool[]? _metadataHave;
    private PeerSession?[]? _metadataFrom;
    private int _metadataRound;
    // Progress of the current buffer, to tell a size whose peers stopped answering.
    private int _metadataReceived;
    private int _metadataReceivedAtLastRound;
    private int _metadataIdleRounds;
    private readonly HashSet<int> _abandonedMetadataSizes = [];
    private const int MetadataIdleRoundsToAbandon = 2;
    private int _protocolErrors;
    private int _metadataHashFailures;

    private void SendExtensionHandshake(PeerSession peer)
    {
        var handshake = new ExtensionHandshake
        {
            Extensions = { [ExtensionNames.UtMetadata] = LocalUtMetadataId },
            MetadataSize = Metainfo?.InfoBytes.Length,
            RequestQueueSize = PeerSession.MaxQueuedUploads,
            ClientVersion = "TorrentEdge " + EngineInfo.PeerIdPrefix.Trim('-'),
        };
        peer.Send(handshake.ToMessage());
    }

    private void OnExtended(PeerSession peer, int extendedId, byte[] payload)
    {
        if (!peer.SupportsExtensionProtocol)
        {
            ProtocolError(peer);
            return;
        }
        if (extendedId == 0) OnExtensionHandshake(peer, payload);
        else if (extendedId == LocalUtMetadataId) OnUtMetadata(peer, payload);
        // Other ids are extensions we never announced: ignored, as BEP 10 allows for ids we do not know.
    }

    /// <summary>The peer broke the protocol: counted and disconnected.</summary>
    private void ProtocolError(PeerSession peer)
    {
        _protocolErrors++;
        Engine.Metrics.ProtocolError();
        peer.Close();
    }

    private void OnExtensionHandshake(PeerSession peer, byte[] payload)
    {
        if (!ExtensionHandshake.TryParse(payload, out var handshake))
        {
            ProtocolError(peer);
            return;
        }
        // A later handshake may update or disable an extension (id 0), so each one replaces what we knew.
        peer.RemoteUtMetadataId = handshake!.GetId(ExtensionNames.UtMetadata);
        peer.RemoteMetadataSize = handshake.MetadataSize is { } size and <= MaxMetadataSize ? size : 0;
        peer.RemoteRequestQueueSize = handshake.RequestQueueSize ?? 0;
        peer.ClientVersion = handshake.ClientVersion ?? peer.ClientVersion;
        if (Metainfo is null) RequestMetadata(tick: false);
    }

    private void OnUtMetadata(PeerSession peer, byte[] payload)
    {
        if (!MetadataMessage.TryParse(payload, out var message))
        {
            ProtocolError(peer);
            return;
        }
        switch (message.Type)
        {
            case MetadataMessageType.Request:
                ServeMetadata(peer, message.Piece);
                break;
            case MetadataMessageType.Data:
                OnMetadataData(peer, message);
                break;
            default: // reject: ask someone else next round
                peer.MetadataRequested = false;
                break;
        }
    }

    private void OnMetadataData(PeerSession peer, in MetadataMessage message)
    {
        if (Metainfo is not null || _metadata is null || _metadataHave is null || _metadataFrom is null) return; // unsolicited: ignore
        if (message.TotalSize != peer.RemoteMetadataSize)
        {
            // Not even the size it announced itself.
            ProtocolError(peer);
            return;
        }
        // Asked for under a size we have since dropped, or never asked: not for this buffer.
        if (message.TotalSize != _metadata.Length || !peer.MetadataRequested) return;
        var piece = message.Piece;
        if (_metadataHave[piece]) return;
        message.Data.CopyTo(_metadata.AsSpan(piece * MetadataMessage.PieceLength));
        _metadataHave[piece] = true;
        _metadataFrom[piece] = peer;
        _metadataReceived++;
        if (Array.TrueForAll(_metadataHave, h => h)) OnMetadataComplete();
    }

    private void ServeMetadata(PeerSession peer, int piece)
    {
        if (peer.RemoteUtMetadataId == 0) return;
        MetadataMessage response;
        if (Metainfo?.InfoBytes is not { } info || piece >= MetadataMessage.PieceCount(info.Length))
        {
            response = MetadataMessage.Reject(piece);
        }
        else
        {
            var offset = piece * MetadataMessage.PieceLength;
            response = MetadataMessage.DataPiece(piece, info.Length, info.Slice(offset, MetadataMessage.GetPieceLength(info.Length, piece)));
        }
        SendMetadata(peer, response);
    }

    private static void SendMetadata(PeerSession peer, in MetadataMessage message)
    {
        // Rare (a handful per connection), so a body array per message is fine.
        var body = new byte[message.BodyLength];
        message.EncodeBody(body);
        peer.Send(PeerMessage.Extended(peer.RemoteUtMetadataId, body));
    }

    /// <summary>
    /// Asks a peer that offers ut_metadata of the buffer's size for the pieces still missing, first choosing (again)
    /// which size to fetch. <paramref name="tick"/>: a periodic round, which counts towards a size's silence.
    /// </summary>
    private void RequestMetadata(bool tick)
    {
        if (Metainfo is not null) return;
        // Every 2 s and per extension handshake while fetching: a small list is fine here.
        var sources = _peers.Where(p => p.RemoteUtMetadataId != 0 && p.RemoteMetadataSize > 0 && !p.IsClosed).ToList();
        if (sources.Count == 0) return;
        if (_metadata is { } current)
        {
            var size = current.Length;
            var backed = sources.Exists(p => p.RemoteMetadataSize == size);
            if (tick) _metadataIdleRounds = _metadataReceived == _metadataReceivedAtLastRound ? _metadataIdleRounds + 1 : 0;
            _metadataReceivedAtLastRound = _metadataReceived;
            var silent = _metadataIdleRounds >= MetadataIdleRoundsToAbandon && sources.Exists(p => p.RemoteMetadataSize != size);
            if (!backed || silent)
            {
                // The size came from peers that left, or that answer nothing while others offer another size: most
                // likely a liar's. Drop what we have of it; a silent size is tried again only after the others.
                if (silent) _abandonedMetadataSizes.Add(size);
                ResetMetadata();
            }
        }
        if (_metadata is null)
        {
            var size = ChooseMetadataSize(sources);
            _metadata = new byte[size];
            _metadataHave = new bool[MetadataMessage.PieceCount(size)];
            _metadataFrom = new PeerSession?[_metadataHave.Length];
        }
        var length = _metadata.Length;
        sources.RemoveAll(p => p.RemoteMetadataSize != length);
        var source = sources[_metadataRound++ % sources.Count];
        source.MetadataRequested = true;
        for (var i = 0; i < _metadataHave!.Length; i++)
            if (!_metadataHave[i]) SendMetadata(source, MetadataMessage.Request(i));
    }

    /// <summary>The size most sources announce, leaving out sizes given up on while others remain; ties go to the earliest peer.</summary>
    private int ChooseMetadataSize(List<PeerSession> sources)
    {
        if (sources.TrueForAll(p => _abandonedMetadataSizes.Contains(p.RemoteMetadataSize))) _abandonedMetadataSizes.Clear();
        var best = 0;
        var bestVotes = 0;
        foreach (var candidate in sources)
        {
            var size = candidate.RemoteMetadataSize;
            if (size == best || _abandonedMetadataSizes.Contains(size)) continue;
            var votes = sources.Count(p => p.RemoteMetadataSize == size);
            if (votes > bestVotes)
            {
                best = size;
                bestVotes = votes;
            }
        }
        return best;
    }

    private void ResetMetadata()
    {
        _metadata = null;
        _metadataHave = null;
        _metadataFrom = null;
        _metadataReceived = 0;
        _metadataReceivedAtLastRound = 0;
        _metadataIdleRounds = 0;
    }

    private void OnMetadataComplete()
    {
        var bytes = _metadata!;
        var from = _metadataFrom!;
        ResetMetadata();
        var hash = SHA1.HashData(bytes);
        if (!hash.AsSpan().SequenceEqual(InfoHash.ToArray()))
        {
            // Someone sent a wrong piece: discard it all and distrust everyone who contributed; the next round starts over.
            _metadataHashFailures++;
            foreach (var peer in from.Where(p => p is not null).Distinct())
            {
                Strike(peer!, StrikeReason.MetadataHashFailed);
                peer!.Close();
            }
            PublishStatus();
            return;
        }
        TorrentMetainfo metainfo;
        try
        {
            metainfo = TorrentMetainfo.FromInfoDictionary(bytes, Trackers);
        }
        catch (MetainfoException e)
        {
            Fail("the metadata from peers is invalid: " + e.Message);
            return;
        }
        _abandonedMetadataSizes.Clear();
        Metainfo = metainfo;
        DisplayName = metainfo.Name;
        InitialisePieces(metainfo);
        Engine.Emit(new MetadataReceivedEvent(InfoHash, Now, metainfo.Name, metainfo.TotalLength));
        Engine.OnMetadataReceived(this);
        foreach (var p in _peers)
        {
            if (p.PendingBitfield is { } pending)
            {
                p.PendingBitfield = null;
                OnBitfield(p, pending);
            }
        }
        StartCheck(forceRecheck: false);
    }
}
