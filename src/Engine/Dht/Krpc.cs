using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using TorrentEdge.Engine.Bencoding;
using TorrentEdge.Engine.Metainfo;

namespace TorrentEdge.Engine.Dht;

/// <summary>A node as the DHT names it: its id and UDP address.</summary>
public readonly record struct DhtContact(NodeId Id, IPEndPoint EndPoint);

/// <summary>The four queries of BEP 5; anything else is <see cref="Unknown"/> and answered with error 204.</summary>
public enum KrpcMethod
{
    Unknown,
    Ping,
    FindNode,
    GetPeers,
    AnnouncePeer,
}

/// <summary>A decoded KRPC message (BEP 5): a query, a response or an error, each with its transaction id.</summary>
public abstract record KrpcMessage(byte[] TransactionId);

/// <summary>A query. <see cref="Target"/> is set for find_node, <see cref="InfoHash"/> for get_peers and announce_peer.</summary>
public sealed record KrpcQuery(byte[] TransactionId, KrpcMethod Method, NodeId SenderId) : KrpcMessage(TransactionId)
{
    public NodeId? Target { get; init; }
    public InfoHash? InfoHash { get; init; }
    public int Port { get; init; }
    public bool ImpliedPort { get; init; }
    public byte[]? Token { get; init; }
    /// <summary>BEP 43: the sender answers no queries, so it must not enter routing tables.</summary>
    public bool ReadOnly { get; init; }
}

/// <summary>A response: the responder's id and whatever the query asked for.</summary>
public sealed record KrpcResponse(byte[] TransactionId, NodeId SenderId) : KrpcMessage(TransactionId)
{
    public IReadOnlyList<DhtContact> Nodes { get; init; } = [];
    public IReadOnlyList<IPEndPoint> Values { get; init; } = [];
    public byte[]? Token { get; init; }
    /// <summary>BEP 42's "ip": our address as the responder saw it.</summary>
    public IPEndPoint? RequesterAddress { get; init; }
}

/// <summary>An error: 201 generic, 202 server, 203 protocol, 204 method unknown.</summary>
public sealed record KrpcError(byte[] TransactionId, int Code, string Message) : KrpcMessage(TransactionId)
{
    public const int Generic = 201;
    public const int Server = 202;
    public const int Protocol = 203;
    public const int MethodUnknown = 204;
}

/// <summary>
/// KRPC over bencode: pure encode and decode, no I/O. Decoding never throws: malformed or hostile input (wrong types,
/// oversized lists, bad lengths) gives a <see cref="KrpcDecodeStatus"/>, and a query we could not read still yields
/// its transaction id so that the caller can answer with error 203.
/// </summary>
public static class KrpcCodec
{
    /// <summary>Largest datagram read; a KRPC message fits one unfragmented packet, and libtorrent sends under 1500 bytes.</summary>
    public const int MaxMessageLength = 1500;

    /// <summary>Peers taken from one response's "values" (libtorrent sends at most 100).</summary>
    public const int MaxValues = 200;

    /// <summary>Nodes taken from one response (8 are expected).</summary>
    public const int MaxNodes = 16;

    /// <summary>Longest token or transaction id accepted (libtorrent uses 4 and 2 bytes).</summary>
    public const int MaxTokenLength = 64;

    private static readonly BencodeReaderOptions Strict = new() { MaxDepth = 4, MaxInputLength = MaxMessageLength, RequireSortedKeys = false, BytesPerNode = 4, MinNodes = 64, MaxNodes = 1024 };

    /// <summary>The client version we send ("v"): TE and two version bytes.</summary>
    public static readonly byte[] Version = "TE\x01\x00"u8.ToArray();

    // ---- decoding ----

    public static KrpcDecodeStatus TryDecode(ReadOnlyMemory<byte> datagram, out KrpcMessage? message, out byte[]? queryTransactionId)
    {
        message = null;
        queryTransactionId = null;
        if (datagram.Length > MaxMessageLength) return KrpcDecodeStatus.TooLarge;
        BDictionary dict;
        try
        {
            dict = BencodeReader.Decode(datagram, Strict) as BDictionary ?? throw new BencodeException(BencodeError.UnexpectedByte, 0);
        }
        catch (BencodeException)
        {
            return KrpcDecodeStatus.NotBencode;
        }
        if (dict.Get<BString>("t") is not { } t || t.Length == 0 || t.Length > MaxTokenLength) return KrpcDecodeStatus.Malformed;
        var tid = t.Span.ToArray();
        var y = dict.Get<BString>("y");
        if (y is null || y.Length != 1) return KrpcDecodeStatus.Malformed;
        switch ((char)y.Span[0])
        {
            case 'q':
                queryTransactionId = tid;
                return DecodeQuery(dict, tid, out message);
            case 'r':
                return DecodeResponse(dict, tid, out message);
            case 'e':
                if (dict.Get<BList>("e") is { Count: >= 2 } e && e[0] is BInteger code && e[1] is BString text)
                {
                    message = new KrpcError(tid, (int)Math.Clamp(code.Value, 0, 999), Truncate(text.Text, 200));
                    return KrpcDecodeStatus.Ok;
                }
                return KrpcDecodeStatus.Malformed;
            default:
                return KrpcDecodeStatus.Malformed;
        }
    }

    private static KrpcDecodeStatus DecodeQuery(BDictionary dict, byte[] tid, out KrpcMessage? message)
    {
        message = null;
        if (dict.Get<BString>("q") is not { } q || dict.Get<BDictionary>("a") is not { } a) return KrpcDecodeStatus.Malformed;
        if (!TryId(a, "id", out var sender)) return KrpcDecodeStatus.Malformed;
        var method = q.Span switch
        {
            var s when s.SequenceEqual("ping"u8) => KrpcMethod.Ping,
            var s when s.SequenceEqual("find_node"u8) => KrpcMethod.FindNode,
            var s when s.SequenceEqual("get_peers"u8) => KrpcMethod.GetPeers,
            var s when s.SequenceEqual("announce_peer"u8) => KrpcMethod.AnnouncePeer,
            _ => KrpcMethod.Unknown,
        };
        var query = new KrpcQuery(tid, method, sender) { ReadOnly = a.Get<BInteger>("ro")?.Value == 1 || dict.Get<BInteger>("ro")?.Value == 1 };
        switch (method)
        {
            case KrpcMethod.FindNode:
                if (!TryId(a, "target", out var target)) return KrpcDecodeStatus.Malformed;
                query = query with { Target = target };
                break;
            case KrpcMethod.GetPeers:
                if (!TryId(a, "info_hash", out var ih)) return KrpcDecodeStatus.Malformed;
                query = query with { InfoHash = ToInfoHash(ih) };
                break;
            case KrpcMethod.AnnouncePeer:
            {
                if (!TryId(a, "info_hash", out var ih2)) return KrpcDecodeStatus.Malformed;
                if (a.Get<BString>("token") is not { Length: > 0 and <= MaxTokenLength } token) return KrpcDecodeStatus.Malformed;
                var implied = a.Get<BInteger>("implied_port")?.Value is { } ip && ip != 0;
                var port = a.Get<BInteger>("port")?.Value;
                if (!implied && port is not (> 0 and <= 65535)) return KrpcDecodeStatus.Malformed;
                query = query with { InfoHash = ToInfoHash(ih2), Token = token.Span.ToArray(), ImpliedPort = implied, Port = (int)(port is > 0 and <= 65535 ? port.Value : 0) };
                break;
            }
        }
        message = query;
        return KrpcDecodeStatus.Ok;
    }

    private static KrpcDecodeStatus DecodeResponse(BDictionary dict, byte[] tid, out KrpcMessage? message)
    {
        message = null;
        if (dict.Get<BDictionary>("r") is not { } r || !TryId(r, "id", out var sender)) return KrpcDecodeStatus.Malformed;
        var nodes = new List<DhtContact>();
        if (r.TryGetValue("nodes", out var n))
        {
            if (n is not BString ns) return KrpcDecodeStatus.Malformed;
            // A length that is not a multiple of 26 is tolerated as libtorrent does: whole entries are read, the rest ignored.
            ReadCompactNodes(ns.Span, nodes, MaxNodes);
        }
        var values = new List<IPEndPoint>();
        if (r.TryGetValue("values", out var v))
        {
            if (v is not BList vl) return KrpcDecodeStatus.Malformed;
            foreach (var item in vl)
            {
                if (values.Count >= MaxValues) break;
                if (item is BString { Length: 6 or 18 } peer && ReadCompactPeer(peer.Span) is { } ep) values.Add(ep);
            }
        }
        byte[]? token = null;
        if (r.TryGetValue("token", out var tk))
        {
            if (tk is not BString { Length: > 0 and <= MaxTokenLength } ts) return KrpcDecodeStatus.Malformed;
            token = ts.Span.ToArray();
        }
        IPEndPoint? requester = null;
        if (dict.Get<BString>("ip") is { Length: 6 or 18 } ipField) requester = ReadCompactPeer(ipField.Span);
        message = new KrpcResponse(tid, sender) { Nodes = nodes, Values = values, Token = token, RequesterAddress = requester };
        return KrpcDecodeStatus.Ok;
    }

    private static bool TryId(BDictionary d, string key, out NodeId id)
    {
        if (d.Get<BString>(key) is { Length: NodeId.Length } s)
        {
            id = new NodeId(s.Span);
            return true;
        }
        id = default;
        return false;
    }

    private static InfoHash ToInfoHash(NodeId id)
    {
        Span<byte> b = stackalloc byte[NodeId.Length];
        id.CopyTo(b);
        return new InfoHash(b);
    }

    private static string Truncate(string s, int max) => s.Length <= max ? s : s[..max];

    /// <summary>Reads 26-byte entries (id, IPv4, port) into <paramref name="into"/>, at most <paramref name="max"/>; port 0 entries are skipped.</summary>
    public static void ReadCompactNodes(ReadOnlySpan<byte> bytes, List<DhtContact> into, int max)
    {
        for (var i = 0; i + 26 <= bytes.Length && into.Count < max; i += 26)
        {
            var port = BinaryPrimitives.ReadUInt16BigEndian(bytes.Slice(i + 24, 2));
            if (port == 0) continue;
            into.Add(new DhtContact(new NodeId(bytes.Slice(i, 20)), new IPEndPoint(new IPAddress(bytes.Slice(i + 20, 4)), port)));
        }
    }

    /// <summary>A compact peer (4 or 16 address bytes, then the port); null for port 0.</summary>
    public static IPEndPoint? ReadCompactPeer(ReadOnlySpan<byte> bytes)
    {
        var port = BinaryPrimitives.ReadUInt16BigEndian(bytes[^2..]);
        return port == 0 ? null : new IPEndPoint(new IPAddress(bytes[..^2]), port);
    }

    public static byte[] CompactPeer(IPEndPoint endPoint)
    {
        var address = endPoint.Address.IsIPv4MappedToIPv6 ? endPoint.Address.MapToIPv4() : endPoint.Address;
        var bytes = new byte[address.AddressFamily == AddressFamily.InterNetwork ? 6 : 18];
        address.TryWriteBytes(bytes, out var n);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(n), (ushort)endPoint.Port);
        return bytes;
    }

    public static byte[] CompactNodes(IEnumerable<DhtContact> nodes)
    {
        var list = nodes.Where(c => c.EndPoint.AddressFamily == AddressFamily.InterNetwork || c.EndPoint.Address.IsIPv4MappedToIPv6).ToList();
        var bytes = new byte[list.Count * 26];
        for (var i = 0; i < list.Count; i++)
        {
            list[i].Id.CopyTo(bytes.AsSpan(i * 26));
            CompactPeer(list[i].EndPoint).CopyTo(bytes.AsSpan(i * 26 + 20));
        }
        return bytes;
    }

    // ---- encoding ----

    public static byte[] Encode(KrpcMessage message, IPEndPoint? requester = null)
    {
        var d = new BDictionary { ["t"] = new BString(message.TransactionId), ["v"] = new BString(Version) };
        switch (message)
        {
            case KrpcQuery q:
            {
                d["y"] = new BString("q");
                var a = new BDictionary { ["id"] = new BString(q.SenderId.ToArray()) };
                switch (q.Method)
                {
                    case KrpcMethod.Ping: d["q"] = new BString("ping"); break;
                    case KrpcMethod.FindNode:
                        d["q"] = new BString("find_node");
                        a["target"] = new BString(q.Target!.Value.ToArray());
                        break;
                    case KrpcMethod.GetPeers:
                        d["q"] = new BString("get_peers");
                        a["info_hash"] = new BString(q.InfoHash!.Value.ToArray());
                        break;
                    case KrpcMethod.AnnouncePeer:
                        d["q"] = new BString("announce_peer");
                        a["info_hash"] = new BString(q.InfoHash!.Value.ToArray());
                        a["port"] = new BInteger(q.Port);
                        a["token"] = new BString(q.Token ?? []);
                        if (q.ImpliedPort) a["implied_port"] = new BInteger(1);
                        break;
                    default:
                        throw new ArgumentException("An unknown method cannot be sent.", nameof(message));
                }
                if (q.ReadOnly) d["ro"] = new BInteger(1);
                d["a"] = a;
                break;
            }
            case KrpcResponse r:
            {
                d["y"] = new BString("r");
                var body = new BDictionary { ["id"] = new BString(r.SenderId.ToArray()) };
                if (r.Nodes.Count > 0) body["nodes"] = new BString(CompactNodes(r.Nodes));
                if (r.Values.Count > 0) body["values"] = new BList(r.Values.Select(p => (BValue)new BString(CompactPeer(p))));
                if (r.Token is { } token) body["token"] = new BString(token);
                d["r"] = body;
                break;
            }
            case KrpcError e:
                d["y"] = new BString("e");
                d["e"] = new BList([new BInteger(e.Code), new BString(e.Message)]);
                break;
        }
        if (requester is not null && message is not KrpcQuery) d["ip"] = new BString(CompactPeer(requester));
        return BencodeWriter.Encode(d);
    }
}

/// <summary>Why a datagram was not a KRPC message.</summary>
public enum KrpcDecodeStatus
{
    Ok,
    TooLarge,
    NotBencode,
    Malformed,
}
