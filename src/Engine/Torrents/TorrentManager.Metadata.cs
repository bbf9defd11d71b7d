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
        if (Metainfo is null) RequestMetadata();
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
        if (message.TotalSize != _metadata.Length)
        {
            ProtocolError(peer);
            return;
        }
        var piece = message.Piece;
        if (_metadataHave[piece]) return;
        message.Data.CopyTo(_metadata.AsSpan(piece * MetadataMessage.PieceLength));
        _metadataHave[piece] = true;
        _metadataFrom[piece] = peer;
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

    /// <summary>Asks peers that offer ut_metadata for the pieces of the info dictionary still missing.</summary>
    private void RequestMetadata()
    {
        if (Metainfo is not null) return;
        var sources = _peers.Where(p => p.RemoteUtMetadataId != 0 && p.RemoteMetadataSize > 0 && !p.IsClosed).ToList();
        if (sources.Count == 0) return;
        if (_metadata is null)
        {
            var size = sources[0].RemoteMetadataSize;
            _metadata = new byte[size];
            _metadataHave = new bool[MetadataMessage.PieceCount(size)];
            _metadataFrom = new PeerSession?[_metadataHave.Length];
        }
        var source = sources[_metadataRound++ % sources.Count];
        if (source.RemoteMetadataSize != _metadata.Length) return;
        for (var i = 0; i < _metadataHave!.Length; i++)
            if (!_metadataHave[i]) SendMetadata(source, MetadataMessage.Request(i));
    }

    private void OnMetadataComplete()
    {
        var bytes = _metadata!;
        var from = _metadataFrom!;
        _metadata = null;
        _metadataHave = null;
        _metadataFrom = null;
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
