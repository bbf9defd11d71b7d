using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using TorrentEdge.Engine.Bencoding;

namespace TorrentEdge.Engine.Protocol;

/// <summary>The flags byte BEP 11 sends beside each added peer ("added.f").</summary>
[Flags]
public enum PexFlags : byte
{
    None = 0,
    /// <summary>The peer prefers encrypted connections.</summary>
    PrefersEncryption = 0x01,
    /// <summary>The peer is a seed (upload only).</summary>
    Seed = 0x02,
    /// <summary>The peer supports uTP.</summary>
    Utp = 0x04,
    /// <summary>The peer supports the holepunch extension.</summary>
    Holepunch = 0x08,
    /// <summary>The sender reached the peer itself (an outgoing connection), so its address takes connections.</summary>
    Reachable = 0x10,
}

/// <summary>One address in a PEX message, with its flags (flags are sent for added peers only).</summary>
public readonly record struct PexPeer(IPEndPoint EndPoint, PexFlags Flags = PexFlags.None);

/// <summary>
/// A ut_pex (BEP 11) message: the peers the sender connected to (added, added6, with added.f / added6.f flags) and
/// disconnected from (dropped, dropped6) since its last message, as compact addresses (4 or 16 bytes of address, 2 of port).
/// Pure codec: no I/O, no state.
/// </summary>
/// <remarks>
/// BEP 11 caps a message at 50 added and 50 dropped peers; a stranger may send more. Parsing keeps at most
/// <see cref="MaxPeersPerList"/> of each list and ignores the rest, so what one message can put into a torrent is
/// bounded whatever its size. Malformed fields are dropped rather than failing the message, as libtorrent does: a
/// key of the wrong type is ignored, a compact list whose length is not a multiple of the entry size is read up to its
/// last whole entry, entries with port 0 and IPv4-mapped entries in the IPv6 lists are skipped, and missing flags count as none. Only a body that is not a
/// bencoded dictionary fails.
/// </remarks>
public sealed class PexMessage
{
    /// <summary>BEP 11: no more than 50 added and 50 dropped peers in one message.</summary>
    public const int MaxPeersPerList = 50;

    private const int V4Length = 6;
    private const int V6Length = 18;

    // The body is small (4 lists of at most 50 entries is under 2 KiB); the frame limits bound what reaches us, and
    // this bounds what the bencode reader will look at.
    private static readonly BencodeReaderOptions Lenient = new() { RequireSortedKeys = false, MaxInputLength = 64 * 1024 };

    /// <summary>Peers the sender connected to, IPv4 and IPv6 together (each encoded in its own list).</summary>
    public IReadOnlyList<PexPeer> Added { get; init; } = [];

    /// <summary>Peers the sender disconnected from, IPv4 and IPv6 together.</summary>
    public IReadOnlyList<IPEndPoint> Dropped { get; init; } = [];

    public bool IsEmpty => Added.Count == 0 && Dropped.Count == 0;

    /// <summary>
    /// The bencoded body (without the extended message header). Throws when a list holds more than
    /// <see cref="MaxPeersPerList"/> entries of one address family: we never send more than BEP 11 allows.
    /// </summary>
    public void WriteTo(IBufferWriter<byte> writer)
    {
        var d = new BDictionary();
        var added4 = Added.Where(p => Family(p.EndPoint) == AddressFamily.InterNetwork).ToList();
        var added6 = Added.Where(p => Family(p.EndPoint) == AddressFamily.InterNetworkV6).ToList();
        var dropped4 = Dropped.Where(e => Family(e) == AddressFamily.InterNetwork).ToList();
        var dropped6 = Dropped.Where(e => Family(e) == AddressFamily.InterNetworkV6).ToList();
        if (added4.Count > MaxPeersPerList || added6.Count > MaxPeersPerList || dropped4.Count > MaxPeersPerList || dropped6.Count > MaxPeersPerList)
            throw new InvalidOperationException($"A PEX message carries at most {MaxPeersPerList} added and {MaxPeersPerList} dropped peers per address family.");
        // BEP 11 lists "added" and "dropped" as required keys, so the IPv4 ones are written even when empty.
        d.Add("added", new BString(Compact(added4.Select(p => p.EndPoint), V4Length)));
        d.Add("added.f", new BString(added4.Select(p => (byte)p.Flags).ToArray()));
        if (added6.Count > 0)
        {
            d.Add("added6", new BString(Compact(added6.Select(p => p.EndPoint), V6Length)));
            d.Add("added6.f", new BString(added6.Select(p => (byte)p.Flags).ToArray()));
        }
        d.Add("dropped", new BString(Compact(dropped4, V4Length)));
        if (dropped6.Count > 0) d.Add("dropped6", new BString(Compact(dropped6, V6Length)));
        BencodeWriter.Write(d, writer);
    }

    public byte[] Encode()
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        WriteTo(buffer);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Parses a ut_pex body; false only when it is not a bencoded dictionary (see the remarks for what is dropped).</summary>
    public static bool TryParse(ReadOnlySequence<byte> body, out PexMessage? message)
    {
        message = null;
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
        var added = new List<PexPeer>();
        ReadAdded(d, "added", "added.f", V4Length, added);
        ReadAdded(d, "added6", "added6.f", V6Length, added);
        var dropped = new List<IPEndPoint>();
        ReadList(d.Get<BString>("dropped"), V4Length, dropped);
        ReadList(d.Get<BString>("dropped6"), V6Length, dropped);
        message = new PexMessage { Added = added, Dropped = dropped };
        return true;
    }

    public static bool TryParse(ReadOnlyMemory<byte> body, out PexMessage? message) =>
        TryParse(new ReadOnlySequence<byte>(body), out message);

    private static void ReadAdded(BDictionary d, string key, string flagsKey, int entryLength, List<PexPeer> into)
    {
        if (d.Get<BString>(key) is not { } list) return;
        var flags = d.Get<BString>(flagsKey) is { } f ? f.Span : default;
        var span = list.Span;
        var count = Math.Min(span.Length / entryLength, MaxPeersPerList);
        for (var i = 0; i < count; i++)
        {
            if (Read(span.Slice(i * entryLength, entryLength)) is not { } ep) continue;
            into.Add(new PexPeer(ep, i < flags.Length ? (PexFlags)flags[i] : PexFlags.None));
        }
    }

    private static void ReadList(BString? list, int entryLength, List<IPEndPoint> into)
    {
        if (list is null) return;
        var span = list.Span;
        var count = Math.Min(span.Length / entryLength, MaxPeersPerList);
        for (var i = 0; i < count; i++)
            if (Read(span.Slice(i * entryLength, entryLength)) is { } ep) into.Add(ep);
    }

    private static IPEndPoint? Read(ReadOnlySpan<byte> entry)
    {
        var port = BinaryPrimitives.ReadUInt16BigEndian(entry[^2..]);
        if (port == 0) return null;
        var address = new IPAddress(entry[..^2]);
        // An IPv4 peer belongs in the IPv4 lists; one dressed as IPv6 would let a message carry 50 more of them.
        return address.IsIPv4MappedToIPv6 ? null : new IPEndPoint(address, port);
    }

    private static byte[] Compact(IEnumerable<IPEndPoint> endPoints, int entryLength)
    {
        var list = endPoints.ToList();
        var bytes = new byte[list.Count * entryLength];
        for (var i = 0; i < list.Count; i++)
        {
            var entry = bytes.AsSpan(i * entryLength, entryLength);
            Normalise(list[i].Address).TryWriteBytes(entry, out _);
            BinaryPrimitives.WriteUInt16BigEndian(entry[^2..], (ushort)list[i].Port);
        }
        return bytes;
    }

    private static AddressFamily Family(IPEndPoint endPoint) => Normalise(endPoint.Address).AddressFamily;

    // An IPv4 peer seen through a dual-stack socket is still an IPv4 peer: it goes in "added", 6 bytes.
    private static IPAddress Normalise(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
