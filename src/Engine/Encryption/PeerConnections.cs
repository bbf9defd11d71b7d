using System.Net;
using System.Security.Cryptography;
using TorrentEdge.Engine.Connections;
using TorrentEdge.Engine.Metainfo;

namespace TorrentEdge.Engine.Encryption;

/// <summary>Where the engine's connections meet the encryption policy: the one place dials and accepts are wrapped.</summary>
internal static class PeerConnections
{
    /// <summary>
    /// An outgoing connection to <paramref name="endPoint"/> from the engine's connection factory (TCP, or an
    /// in-memory network in tests) that negotiates encryption by <paramref name="policy"/>.
    /// </summary>
    public static IPeerConnection Dial(IPeerConnectionFactory factory, IPEndPoint endPoint, InfoHash infoHash, EncryptionPolicy policy) =>
        policy == EncryptionPolicy.Disable
            ? factory.Create(endPoint)
            : new OutgoingPeerConnection(() => factory.Create(endPoint), infoHash, policy);

    /// <summary>Finds the torrent whose HASH('req2', info-hash) an encrypted peer sent (one SHA-1 per torrent, on the stack).</summary>
    public static MseTorrent? FindByReq2(IEnumerable<(InfoHash InfoHash, EncryptionPolicy Policy)> torrents, byte[] req2)
    {
        Span<byte> input = stackalloc byte[4 + 20];
        Span<byte> hash = stackalloc byte[20];
        "req2"u8.CopyTo(input);
        foreach (var (infoHash, policy) in torrents)
        {
            infoHash.CopyTo(input[4..]);
            SHA1.HashData(input, hash);
            if (hash.SequenceEqual(req2)) return new MseTorrent(infoHash, policy);
        }
        return null;
    }

    /// <summary>
    /// Whether an incoming connection may go on to the torrent its BitTorrent handshake named: a plaintext one only
    /// when the torrent does not require encryption; an encrypted one only for the torrent its MSE handshake named.
    /// </summary>
    public static bool Admits(IPeerConnection connection, InfoHash named, EncryptionPolicy policy) =>
        connection is EncryptedPeerConnection { UsedHandshake: true } mse
            ? mse.InfoHash == named
            : policy != EncryptionPolicy.Require;
}
