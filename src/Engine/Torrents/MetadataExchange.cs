using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Protocol;

namespace TorrentEdge.Engine.Torrents;

/// <summary>What the metadata exchange needs of its torrent: the metainfo once known, and where its verdicts go.</summary>
internal interface IMetadataExchangeOwner
{
    /// <summary>Null until a magnet's metadata arrives.</summary>
    TorrentMetainfo? Metainfo { get; }

    /// <summary>The peer broke the protocol: counted and disconnected.</summary>
    void ProtocolError(PeerSession peer);

    /// <summary>Assembled metadata failed the info-hash: every contributor is suspect.</summary>
    void MetadataForged(PeerSession[] contributors);

    /// <summary>Metadata that matches the info-hash; false when it is not a valid info dictionary (the torrent fails).</summary>
    bool MetadataArrived(byte[] infoDictionary);
}

/// <summary>
/// ut_metadata (BEP 9) both ways for one torrent: fetches a magnet's info dictionary through
/// <see cref="MetadataFetcher{TPeer}"/> (which size to trust, whom to ask, the info-hash check) and serves ours once
/// known (reject for what we lack). Malformed messages and data of a size other than the one asked for are protocol
/// errors. Loop only.
/// </summary>
internal sealed class MetadataExchange(InfoHash infoHash, IMetadataExchangeOwner owner)
{
    /// <summary>Our id for ut_metadata messages sent to us.</summary>
    public const byte LocalId = 3;

    private readonly List<int> _missing = [];
    private MetadataFetcher<PeerSession>? _fetcher;

    private MetadataFetcher<PeerSession> Fetcher => _fetcher ??= new MetadataFetcher<PeerSession>(infoHash);

    /// <summary>A ut_metadata message from the peer (its payload after the extended id).</summary>
    public void OnMessage(PeerSession peer, byte[] payload)
    {
        if (!MetadataMessage.TryParse(payload, out var message))
        {
            owner.ProtocolError(peer);
            return;
        }
        switch (message.Type)
        {
            case MetadataMessageType.Request:
                Serve(peer, message.Piece);
                break;
            case MetadataMessageType.Data:
                OnData(peer, message);
                break;
            default: // reject: ask someone else next round
                peer.MetadataRequested = false;
                break;
        }
    }

    private void OnData(PeerSession peer, in MetadataMessage message)
    {
        if (owner.Metainfo is not null) return; // unsolicited: ignore
        switch (Fetcher.OnData(peer, message))
        {
            case MetadataDataOutcome.ProtocolError:
                owner.ProtocolError(peer);
                break;
            case MetadataDataOutcome.Complete:
                Complete();
                break;
        }
    }

    private void Serve(PeerSession peer, int piece)
    {
        if (peer.RemoteUtMetadataId == 0) return;
        MetadataMessage response;
        if (owner.Metainfo?.InfoBytes is not { } info || piece >= MetadataMessage.PieceCount(info.Length))
        {
            response = MetadataMessage.Reject(piece);
        }
        else
        {
            var offset = piece * MetadataMessage.PieceLength;
            response = MetadataMessage.DataPiece(piece, info.Length, info.Slice(offset, MetadataMessage.GetPieceLength(info.Length, piece)));
        }
        Send(peer, response);
    }

    private static void Send(PeerSession peer, in MetadataMessage message)
    {
        // Rare (a handful per connection), so a body array per message is fine.
        var body = new byte[message.BodyLength];
        message.EncodeBody(body);
        peer.Send(PeerMessage.Extended(peer.RemoteUtMetadataId, body));
    }

    /// <summary>
    /// Asks a peer that offers ut_metadata of the size being fetched for the pieces still missing (the fetcher chooses
    /// the size and the peer). <paramref name="tick"/>: a periodic round, which counts towards a size's silence.
    /// </summary>
    public void RequestRound(IEnumerable<PeerSession> peers, bool tick)
    {
        if (owner.Metainfo is not null) return;
        var source = Fetcher.NextRound(peers, tick, _missing);
        if (source is null) return;
        foreach (var piece in _missing) Send(source, MetadataMessage.Request(piece));
    }

    private void Complete()
    {
        if (!Fetcher.TakeCompleted(out var bytes, out var contributors))
        {
            // Someone sent a wrong piece: discard it all and distrust everyone who contributed; the next round starts over.
            owner.MetadataForged(contributors);
            return;
        }
        if (owner.MetadataArrived(bytes)) _fetcher = null;
    }
}
