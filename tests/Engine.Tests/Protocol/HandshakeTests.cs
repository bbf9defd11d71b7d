using System.Buffers;
using TorrentEdge.Engine.Protocol;
using TorrentEdge.Engine.Tests.TestSupport;

namespace TorrentEdge.Engine.Tests.Protocol;

public class HandshakeTests
{
    private static readonly byte[] InfoHash = Enumerable.Range(1, 20).Select(i => (byte)i).ToArray();

    private static byte[] Encoded(ReservedBits reserved, PeerId peerId)
    {
        var bytes = new byte[Handshake.Length];
        Assert.Equal(Handshake.Length, new Handshake(reserved, InfoHash, peerId).Encode(bytes));
        return bytes;
    }

    [Fact]
    public void Encode_ThenTryParse_RoundTrips()
    {
        var peerId = PeerId.Generate();
        var bytes = Encoded(ReservedBits.Default, peerId);

        Assert.Equal(HandshakeStatus.Complete, Handshake.TryParse(bytes, out var parsed));
        Assert.Equal(peerId, parsed.PeerId);
        Assert.True(parsed.InfoHash.SequenceEqual(InfoHash));
        Assert.True(parsed.Reserved.SupportsFastExtension);
        Assert.True(parsed.Reserved.SupportsExtensionProtocol);
        Assert.False(parsed.Reserved.SupportsDht);
    }

    [Fact]
    public void InfoHashOverloads_MatchTheByteForm()
    {
        var infoHash = new TorrentEdge.Engine.Metainfo.InfoHash(InfoHash);
        var handshake = new Handshake(ReservedBits.None, infoHash, PeerId.Generate());
        Assert.Equal(infoHash, handshake.GetInfoHash());
        Assert.True(handshake.InfoHash.SequenceEqual(InfoHash));
    }

    [Fact]
    public void Encode_WritesBep3Layout()
    {
        var bytes = Encoded(ReservedBits.None, PeerId.FromBytes(new byte[20]));
        Assert.Equal(19, bytes[0]);
        Assert.Equal("BitTorrent protocol"u8.ToArray(), bytes[1..20]);
        Assert.All(bytes[20..28], b => Assert.Equal(0, b));
        Assert.Equal(InfoHash, bytes[28..48]);
    }

    [Fact]
    public void ReservedBits_FastAndExtensionFlags_UseTheBitsTheBepsName()
    {
        var bytes = Encoded(ReservedBits.None.WithFastExtension(true), PeerId.Generate());
        Assert.Equal(0x04, bytes[20 + 7]);
        Assert.Equal(0, bytes[20 + 5]);

        bytes = Encoded(ReservedBits.None.WithExtensionProtocol(true), PeerId.Generate());
        Assert.Equal(0x10, bytes[20 + 5]);
        Assert.Equal(0, bytes[20 + 7]);

        var both = ReservedBits.Default;
        Assert.False(both.WithFastExtension(false).SupportsFastExtension);
        Assert.True(both.WithFastExtension(false).SupportsExtensionProtocol);
        Assert.False(both.Intersect(ReservedBits.None.WithDht(true)).SupportsFastExtension);
    }

    [Fact]
    public void TryParse_WrongProtocolString_IsInvalidAsSoonAsItDiffers()
    {
        var bytes = Encoded(ReservedBits.Default, PeerId.Generate());
        bytes[3] = (byte)'X';
        Assert.Equal(HandshakeStatus.Invalid, Handshake.TryParse(bytes.AsSpan(0, 4), out _));
        Assert.Equal(HandshakeStatus.Invalid, Handshake.TryParse(bytes, out _));
        Assert.Equal(HandshakeStatus.Invalid, Handshake.TryParse("GET / HTTP/1.1\r\n"u8, out _));
    }

    [Fact]
    public void TryParse_Partial_IsIncomplete()
    {
        var bytes = Encoded(ReservedBits.Default, PeerId.Generate());
        for (var n = 0; n < Handshake.Length; n++)
            Assert.Equal(HandshakeStatus.Incomplete, Handshake.TryParse(bytes.AsSpan(0, n), out _));
    }

    [Fact]
    public void TryParse_SequenceAcrossSegmentsWithTrailingMessage_ConsumesOnlyTheHandshake()
    {
        var peerId = PeerId.Generate();
        var bytes = Encoded(ReservedBits.Default, peerId).Concat(new byte[] { 0, 0, 0, 1, 2 }).ToArray();
        var sequence = Sequences.Split(bytes, 1, 30, 50, 70);

        Assert.Equal(HandshakeStatus.Complete, Handshake.TryParse(sequence, out var parsed, out var consumed));
        Assert.Equal(peerId, parsed.PeerId);
        Assert.Equal(Handshake.Length, sequence.Slice(0, consumed).Length);

        var partial = Sequences.Split(bytes[..60], 10, 40);
        Assert.Equal(HandshakeStatus.Incomplete, Handshake.TryParse(partial, out _, out consumed));
        Assert.Equal(partial.Start, consumed);
    }

    [Fact]
    public void WriteTo_BufferWriter_MatchesEncode()
    {
        var handshake = new Handshake(ReservedBits.Default, InfoHash, PeerId.Generate());
        var writer = new ArrayBufferWriter<byte>();
        handshake.WriteTo(writer);
        var expected = new byte[Handshake.Length];
        handshake.Encode(expected);
        Assert.Equal(expected, writer.WrittenSpan.ToArray());
    }

    [Fact]
    public void PeerId_Generate_StartsWithClientPrefixAndDiffers()
    {
        var a = PeerId.Generate();
        var b = PeerId.Generate();
        Assert.StartsWith(EngineInfo.PeerIdPrefix, a.ToString(), StringComparison.Ordinal);
        Assert.NotEqual(a, b);
        Assert.Equal(a, PeerId.FromBytes(a.ToArray()));
        Assert.Equal(a.GetHashCode(), PeerId.FromBytes(a.Span).GetHashCode());
    }
}
