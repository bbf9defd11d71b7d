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
    private const byte LocalUtMetadataId = MetadataExchange.LocalId;
    private int _protocolErrors;
    private int _metadataHashFailures;

    private void SendExtensionHandshake(PeerSession peer)
    {
        var handshake = new ExtensionHandshake
        {
            Extensions = { [ExtensionNames.UtMetadata] = LocalUtMetadataId },
            // Peers that dialled us learn where we listen, so they can pass us on in PEX.
            ListenPort = (Host.Options.AnnouncePort ?? Host.ListenEndPoint?.Port) is int port and > 0 and <= ushort.MaxValue ? (ushort)port : null,
            MetadataSize = Metainfo?.InfoBytes.Length,
            RequestQueueSize = PeerSession.MaxQueuedUploads,
            ClientVersion = "TorrentEdge " + EngineInfo.PeerIdPrefix.Trim('-'),
        };
        if (PexAllowed) handshake.Extensions[ExtensionNames.UtPex] = LocalUtPexId;
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
        else if (extendedId == LocalUtMetadataId) _metadataExchange.OnMessage(peer, payload);
        else if (extendedId == LocalUtPexId) OnUtPex(peer, payload);
        // Other ids are extensions we never announced: ignored, as BEP 10 allows for ids we do not know.
    }

    void IBlockExchangeOwner.ProtocolError(PeerSession peer) => ProtocolError(peer);

    void IMetadataExchangeOwner.ProtocolError(PeerSession peer) => ProtocolError(peer);

    /// <summary>The peer broke the protocol: counted and disconnected.</summary>
    private void ProtocolError(PeerSession peer)
    {
        _protocolErrors++;
        Host.Metrics.ProtocolError();
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
        peer.RemoteMetadataSize = handshake.MetadataSize is { } size and <= MetadataFetcher<PeerSession>.MaxMetadataSize ? size : 0;
        peer.RemoteRequestQueueSize = handshake.RequestQueueSize ?? 0;
        peer.RemoteUtPexId = handshake.GetId(ExtensionNames.UtPex);
        peer.RemoteListenPort = handshake.ListenPort ?? 0;
        peer.ClientVersion = handshake.ClientVersion ?? peer.ClientVersion;
        if (Metainfo is null) RequestMetadata(tick: false);
    }

    private void RequestMetadata(bool tick) => _metadataExchange.RequestRound(_peers, tick);

    TorrentMetainfo? IMetadataExchangeOwner.Metainfo => Metainfo;

    void IMetadataExchangeOwner.MetadataForged(PeerSession[] contributors)
    {
        _metadataHashFailures++;
        foreach (var peer in contributors)
        {
            Strike(peer, StrikeReason.MetadataHashFailed);
            peer.Close();
        }
        PublishStatus();
    }

    bool IMetadataExchangeOwner.MetadataArrived(byte[] bytes)
    {
        TorrentMetainfo metainfo;
        try
        {
            metainfo = TorrentMetainfo.FromInfoDictionary(bytes, Trackers);
        }
        catch (MetainfoException e)
        {
            Fail("the metadata from peers is invalid: " + e.Message);
            return false;
        }
        Metainfo = metainfo;
        DisplayName = metainfo.Name;
        InitialisePieces(metainfo);
        Host.Emit(new MetadataReceivedEvent(InfoHash, Now, metainfo.Name, metainfo.TotalLength));
        _exchange.ApplyPendingBitfields();
        StartCheck(forceRecheck: false);
        return true;
    }
}
