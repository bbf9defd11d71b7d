using System.Buffers;
using System.Net;
using TorrentEdge.Engine.Bencoding;
using TorrentEdge.Engine.Protocol;
using TorrentEdge.Engine.Tests.TestSupport;

namespace TorrentEdge.Engine.Tests.Protocol;

public class ExtensionProtocolTests
{
    [Fact]
    public void ExtensionHandshake_EncodeThenParse_RoundTripsEveryField()
    {
        var sent = new ExtensionHandshake
        {
            Extensions = { [ExtensionNames.UtMetadata] = 3, [ExtensionNames.UtPex] = 0 },
            ClientVersion = "TorrentEdge 0100",
            ListenPort = 6881,
            RequestQueueSize = 250,
            MetadataSize = 31235,
            YourIp = IPAddress.Parse("203.0.113.7"),
        };

        Assert.True(ExtensionHandshake.TryParse(sent.Encode(), out var parsed));
        Assert.Equal(3, parsed!.GetId(ExtensionNames.UtMetadata));
        Assert.Equal(0, parsed.GetId(ExtensionNames.UtPex));
        Assert.Equal(0, parsed.GetId("lt_donthave"));
        Assert.Equal("TorrentEdge 0100", parsed.ClientVersion);
        Assert.Equal((ushort)6881, parsed.ListenPort);
        Assert.Equal(250, parsed.RequestQueueSize);
        Assert.Equal(31235, parsed.MetadataSize);
        Assert.Equal(IPAddress.Parse("203.0.113.7"), parsed.YourIp);
    }

    [Fact]
    public void ExtensionHandshake_Encode_IsACanonicalBencodedDictionary()
    {
        var bytes = new ExtensionHandshake { Extensions = { ["ut_metadata"] = 2 }, MetadataSize = 100 }.Encode();
        Assert.Equal("d1:md11:ut_metadatai2ee13:metadata_sizei100ee"u8.ToArray(), bytes);
    }

    [Fact]
    public void ExtensionHandshake_FromLibtorrentLikeBytes_IgnoresUnknownAndOutOfRangeValues()
    {
        var body = "d12:complete_agoi-1e1:md11:lt_donthavei7e10:share_modei8e11:upload_onlyi3e12:ut_holepunchi4e11:ut_metadatai2e6:ut_pexi1e5:weirdi999ee13:metadata_sizei-5e1:pi70000e4:reqqi500e1:v18:libtorrent/2.0.8.06:yourip4:\u007f\0\0\u0001e"u8.ToArray();
        Assert.True(ExtensionHandshake.TryParse(Sequences.Split(body, 10, 50), out var parsed));
        Assert.Equal(2, parsed!.GetId(ExtensionNames.UtMetadata));
        Assert.Equal(1, parsed.GetId(ExtensionNames.UtPex));
        Assert.False(parsed.Extensions.ContainsKey("weird"));
        Assert.Null(parsed.MetadataSize);
        Assert.Null(parsed.ListenPort);
        Assert.Equal(500, parsed.RequestQueueSize);
        Assert.Equal("libtorrent/2.0.8.0", parsed.ClientVersion);
        Assert.Equal(IPAddress.Loopback, parsed.YourIp);
    }

    [Theory]
    [InlineData("")]
    [InlineData("li1ee")]
    [InlineData("d1:m")]
    public void ExtensionHandshake_NotADictionary_Fails(string body)
    {
        Assert.False(ExtensionHandshake.TryParse(System.Text.Encoding.ASCII.GetBytes(body), out _));
    }

    [Fact]
    public void ExtensionHandshake_ToMessage_FramesAsExtendedIdZero()
    {
        var message = new ExtensionHandshake { Extensions = { ["ut_metadata"] = 1 } }.ToMessage();
        var bytes = new byte[message.EncodedLength];
        message.Encode(bytes);
        Assert.Equal(FrameStatus.Complete, PeerMessageReader.TryRead(new ReadOnlySequence<byte>(bytes), FrameLimits.Default, out var read, out _));
        Assert.Equal(MessageId.Extended, read.Id);
        Assert.Equal(0, read.ExtendedId);
        Assert.True(ExtensionHandshake.TryParse(read.Payload, out var parsed));
        Assert.Equal(1, parsed!.GetId("ut_metadata"));
    }

    [Fact]
    public void MetadataRequestAndReject_RoundTripWithBep9Bytes()
    {
        var request = MetadataMessage.Request(2);
        var body = new byte[request.BodyLength];
        request.EncodeBody(body);
        Assert.Equal("d8:msg_typei0e5:piecei2ee"u8.ToArray(), body);
        Assert.True(MetadataMessage.TryParse(body, out var parsed));
        Assert.Equal(MetadataMessageType.Request, parsed.Type);
        Assert.Equal(2, parsed.Piece);

        var reject = MetadataMessage.Reject(10);
        body = new byte[reject.BodyLength];
        reject.EncodeBody(body);
        Assert.Equal("d8:msg_typei2e5:piecei10ee"u8.ToArray(), body);
        Assert.True(MetadataMessage.TryParse(body, out parsed));
        Assert.Equal(MetadataMessageType.Reject, parsed.Type);
    }

    [Fact]
    public void MetadataData_WriteToThenRead_FramedWithRemoteIdAndRawPieceAfterDictionary()
    {
        const int totalSize = MetadataMessage.PieceLength + 100;
        var piece = Enumerable.Range(0, 100).Select(i => (byte)i).ToArray();
        var writer = new ArrayBufferWriter<byte>();
        MetadataMessage.DataPiece(1, totalSize, piece).WriteTo(writer, remoteExtensionId: 7);

        Assert.Equal(FrameStatus.Complete, PeerMessageReader.TryRead(new ReadOnlySequence<byte>(writer.WrittenMemory), FrameLimits.Default, out var message, out _));
        Assert.Equal(7, message.ExtendedId);
        var header = "d8:msg_typei1e5:piecei1e10:total_sizei16484ee"u8.ToArray();
        Assert.Equal([.. header, .. piece], message.Payload.ToArray());

        Assert.True(MetadataMessage.TryParse(message.Payload, out var parsed));
        Assert.Equal(MetadataMessageType.Data, parsed.Type);
        Assert.Equal(1, parsed.Piece);
        Assert.Equal(totalSize, parsed.TotalSize);
        Assert.Equal(piece, parsed.Data.ToArray());
    }

    [Fact]
    public void MetadataData_WrongLengthForPieceOrMissingTotalSize_Fails()
    {
        var writer = new ArrayBufferWriter<byte>();
        BencodeWriter.Write(new BDictionary { { "msg_type", new BInteger(1) }, { "piece", new BInteger(0) }, { "total_size", new BInteger(20000) } }, writer);
        writer.Write(new byte[100]); // piece 0 of 20000 bytes must be 16 KiB
        Assert.False(MetadataMessage.TryParse(writer.WrittenMemory, out _));

        Assert.False(MetadataMessage.TryParse("d8:msg_typei1e5:piecei0ee"u8.ToArray(), out _));
        Assert.False(MetadataMessage.TryParse("d8:msg_typei9e5:piecei0ee"u8.ToArray(), out _));
        Assert.False(MetadataMessage.TryParse("d8:msg_typei0ee"u8.ToArray(), out _));
        Assert.False(MetadataMessage.TryParse("garbage"u8.ToArray(), out _));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(16384, 1)]
    [InlineData(16385, 2)]
    public void PieceCount_CoversTheMetadata(int size, int pieces)
    {
        Assert.Equal(pieces, MetadataMessage.PieceCount(size));
        Assert.Equal(size - (pieces - 1) * 16384, MetadataMessage.GetPieceLength(size, pieces - 1));
    }
}
