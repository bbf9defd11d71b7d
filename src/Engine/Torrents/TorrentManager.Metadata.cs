using System.Security.Cryptography;
using TorrentEdge.Engine.Bencoding;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Protocol;

namespace TorrentEdge.Engine.Torrents;

/// <summary>The extension protocol (BEP 10) and metadata exchange (BEP 9): fetch the info dictionary for a magnet, serve it otherwise.</summary>
public sealed partial class TorrentManager
{
    /// <summary>Our id for ut_metadata messages sent to us.</summary>
    private const byte LocalUtMetadataId = 3;
    private const int MetadataPieceLength = 16 * 1024;
    private const int MaxMetadataSize = 16 * 1024 * 1024;
    private byte[]? _metadata;
    private bool[]? _metadataHave;
    private int _metadataRound;

    private void SendExtensionHandshake(PeerSession peer)
    {
        var d = new BDictionary();
        var m = new BDictionary();
        m.Add("ut_metadata", new BInteger(LocalUtMetadataId));
        d.Add("m", m);
        if (Metainfo is not null) d.Add("metadata_size", new BInteger(Metainfo.InfoBytes.Length));
        d.Add("reqq", new BInteger(250));
        d.Add("v", new BString("TorrentEdge " + EngineInfo.PeerIdPrefix.Trim('-')));
        peer.Send(PeerMessage.Extended(0, d.Encode()));
    }

    private void OnExtended(PeerSession peer, int extendedId, byte[] payload)
    {
        try
        {
            if (extendedId == 0) OnExtensionHandshake(peer, payload);
            else if (extendedId == LocalUtMetadataId) OnUtMetadata(peer, payload);
        }
        catch (BencodeException)
        {
            peer.Close();
        }
    }

    private void OnExtensionHandshake(PeerSession peer, byte[] payload)
    {
        var d = BencodeReader.DecodeDictionary(payload);
        if (d.Get<BDictionary>("m") is { } m && m.Get<BInteger>("ut_metadata") is { } id && id.Value is > 0 and < 256)
            peer.RemoteUtMetadataId = (byte)id.Value;
        if (d.Get<BInteger>("metadata_size") is { } size && size.Value is > 0 and <= MaxMetadataSize)
            peer.RemoteMetadataSize = (int)size.Value;
        if (Metainfo is null) RequestMetadata();
    }

    private void OnUtMetadata(PeerSession peer, byte[] payload)
    {
        var header = BencodeReader.DecodePrefix(payload, out var consumed) as BDictionary;
        if (header?.Get<BInteger>("msg_type") is not { } type || header.Get<BInteger>("piece") is not { } pieceValue) return;
        var piece = (int)Math.Clamp(pieceValue.Value, -1, int.MaxValue);
        switch (type.Value)
        {
            case 0: // request
                ServeMetadata(peer, piece);
                break;
            case 1: // data
                if (Metainfo is not null || _metadata is null || _metadataHave is null) return;
                if ((uint)piece >= (uint)_metadataHave.Length) return;
                var expected = Math.Min(MetadataPieceLength, _metadata.Length - piece * MetadataPieceLength);
                if (payload.Length - consumed != expected) return;
                payload.AsSpan(consumed).CopyTo(_metadata.AsSpan(piece * MetadataPieceLength));
                _metadataHave[piece] = true;
                if (_metadataHave.All(h => h)) OnMetadataComplete();
                break;
            default: // reject: ask someone else next round
                peer.MetadataRequested = false;
                break;
        }
    }

    private void ServeMetadata(PeerSession peer, int piece)
    {
        if (peer.RemoteUtMetadataId == 0) return;
        var response = new BDictionary();
        var info = Metainfo?.InfoBytes;
        var count = info is { } bytes ? (bytes.Length + MetadataPieceLength - 1) / MetadataPieceLength : 0;
        if (info is null || (uint)piece >= (uint)count)
        {
            response.Add("msg_type", new BInteger(2));
            response.Add("piece", new BInteger(piece));
            peer.Send(PeerMessage.Extended(peer.RemoteUtMetadataId, response.Encode()));
            return;
        }
        var data = info.Value.Slice(piece * MetadataPieceLength, Math.Min(MetadataPieceLength, info.Value.Length - piece * MetadataPieceLength));
        response.Add("msg_type", new BInteger(1));
        response.Add("piece", new BInteger(piece));
        response.Add("total_size", new BInteger(info.Value.Length));
        var head = response.Encode();
        var body = new byte[head.Length + data.Length];
        head.CopyTo(body, 0);
        data.Span.CopyTo(body.AsSpan(head.Length));
        peer.Send(PeerMessage.Extended(peer.RemoteUtMetadataId, body));
    }

    /// <summary>Asks peers that offer ut_metadata for the pieces of the info dictionary still missing.</summary>
    private void RequestMetadata()
    {
        if (Metainfo is not null) return;
        var sources = _peers.Where(p => p.RemoteUtMetadataId != 0 && p.RemoteMetadataSize > 0).ToList();
        if (sources.Count == 0) return;
        if (_metadata is null)
        {
            var size = sources[0].RemoteMetadataSize;
            _metadata = new byte[size];
            _metadataHave = new bool[(size + MetadataPieceLength - 1) / MetadataPieceLength];
        }
        var source = sources[_metadataRound++ % sources.Count];
        if (source.RemoteMetadataSize != _metadata.Length) return;
        for (var i = 0; i < _metadataHave!.Length; i++)
        {
            if (_metadataHave[i]) continue;
            var request = new BDictionary();
            request.Add("msg_type", new BInteger(0));
            request.Add("piece", new BInteger(i));
            source.Send(PeerMessage.Extended(source.RemoteUtMetadataId, request.Encode()));
        }
    }

    private void OnMetadataComplete()
    {
        var bytes = _metadata!;
        _metadata = null;
        _metadataHave = null;
        var hash = SHA1.HashData(bytes);
        if (!hash.AsSpan().SequenceEqual(InfoHash.ToArray()))
        {
            // Someone sent a wrong piece; start over (the next round asks another peer first).
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
            else if (p.PeerHasAll)
            {
                ChangeAvailability(p, +1);
            }
        }
        StartCheck(forceRecheck: false);
    }
}
