using System.Buffers;
using System.Net;
using System.Text;
using TorrentEdge.Engine.Bencoding;

namespace TorrentEdge.Engine.Protocol;

/// <summary>Names of the extension messages we know (the keys of the "m" dictionary).</summary>
public static class ExtensionNames
{
    public const string UtMetadata = "ut_metadata";
    public const string UtPex = "ut_pex";
}

/// <summary>
/// The BEP 10 extension handshake (extended message id 0): which extension messages a peer supports under
/// which ids, plus optional client version, listen port, request queue size, metadata size and our IP as it
/// sees it. Sent once per connection, so it is a plain object.
/// </summary>
public sealed class ExtensionHandshake
{
    private static readonly BencodeReaderOptions Lenient = new() { RequireSortedKeys = false, MaxInputLength = 1024 * 1024 };

    /// <summary>Extension name → the id the sender wants to receive it under; 0 means the sender disabled it.</summary>
    public Dictionary<string, byte> Extensions { get; init; } = new(StringComparer.Ordinal);

    /// <summary>"v": client name and version.</summary>
    public string? ClientVersion { get; init; }

    /// <summary>"p": the sender's listen port (useful on incoming connections).</summary>
    public ushort? ListenPort { get; init; }

    /// <summary>"reqq": how many outstanding requests the sender accepts.</summary>
    public int? RequestQueueSize { get; init; }

    /// <summary>"metadata_size" (BEP 9): size of the info dictionary in bytes.</summary>
    public int? MetadataSize { get; init; }

    /// <summary>"yourip": the receiver's address as the sender sees it.</summary>
    public IPAddress? YourIp { get; init; }

    /// <summary>The id under which the sender accepts <paramref name="name"/>, or 0 when it does not support it.</summary>
    public byte GetId(string name) => Extensions.TryGetValue(name, out var id) ? id : (byte)0;

    /// <summary>The bencoded body (without the extended message header).</summary>
    public void WriteTo(IBufferWriter<byte> writer)
    {
        var d = new BDictionary();
        var m = new BDictionary();
        foreach (var (name, id) in Extensions) m.Add(name, new BInteger(id));
        d.Add("m", m);
        if (ClientVersion is not null) d.Add("v", new BString(ClientVersion));
        if (ListenPort is { } port) d.Add("p", new BInteger(port));
        if (RequestQueueSize is { } reqq) d.Add("reqq", new BInteger(reqq));
        if (MetadataSize is { } size) d.Add("metadata_size", new BInteger(size));
        if (YourIp is { } ip) d.Add("yourip", new BString(ip.GetAddressBytes()));
        BencodeWriter.Write(d, writer);
    }

    public byte[] Encode()
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        WriteTo(buffer);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The whole peer wire message (length prefix, id 20, extended id 0, body).</summary>
    public PeerMessage ToMessage() => PeerMessage.Extended(0, Encode());

    /// <summary>
    /// Parses a handshake body. Unknown keys are ignored and out-of-range values dropped, as BEP 10 asks;
    /// only a body that is not a bencoded dictionary fails.
    /// </summary>
    public static bool TryParse(ReadOnlySequence<byte> body, out ExtensionHandshake? handshake)
    {
        handshake = null;
        BDictionary d;
        try
        {
            var memory = body.IsSingleSegment ? body.First : body.ToArray();
            if (BencodeReader.DecodePrefix(memory, out _, Lenient) is not BDictionary dict) return false;
            d = dict;
        }
        catch (BencodeException)
        {
            return false;
        }

        var extensions = new Dictionary<string, byte>(StringComparer.Ordinal);
        if (d.Get<BDictionary>("m") is { } m)
        {
            foreach (var (key, value) in m)
                if (value is BInteger { Value: >= 0 and <= 255 } id && key.IsValidUtf8)
                    extensions[key.Text] = (byte)id.Value;
        }
        IPAddress? yourIp = null;
        if (d.Get<BString>("yourip") is { Length: 4 or 16 } ip) yourIp = new IPAddress(ip.Span);
        handshake = new ExtensionHandshake
        {
            Extensions = extensions,
            ClientVersion = d.Get<BString>("v") is { } v ? Encoding.UTF8.GetString(v.Span) : null,
            ListenPort = d.Get<BInteger>("p") is { Value: > 0 and <= ushort.MaxValue } p ? (ushort)p.Value : null,
            RequestQueueSize = d.Get<BInteger>("reqq") is { Value: > 0 and <= int.MaxValue } q ? (int)q.Value : null,
            MetadataSize = d.Get<BInteger>("metadata_size") is { Value: > 0 and <= int.MaxValue } s ? (int)s.Value : null,
            YourIp = yourIp,
        };
        return true;
    }

    public static bool TryParse(ReadOnlyMemory<byte> body, out ExtensionHandshake? handshake) =>
        TryParse(new ReadOnlySequence<byte>(body), out handshake);
}
