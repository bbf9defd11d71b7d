using System.Net;
using System.Text;
using TorrentEdge.Engine.Dht;
using TorrentEdge.Engine.Metainfo;

namespace TorrentEdge.Engine.Tests.Dht;

public sealed class KrpcCodecTests
{
    private static readonly NodeId Sender = new(Enumerable.Range(1, 20).Select(i => (byte)i).ToArray());

    private static KrpcMessage? Decode(string text, out KrpcDecodeStatus status, out byte[]? queryTid)
    {
        status = KrpcCodec.TryDecode(Encoding.Latin1.GetBytes(text), out var message, out queryTid);
        return message;
    }

    [Fact]
    public void TryDecode_Bep5PingExample_IsPingQuery()
    {
        var m = Decode("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe", out var status, out var tid);
        Assert.Equal(KrpcDecodeStatus.Ok, status);
        var q = Assert.IsType<KrpcQuery>(m);
        Assert.Equal(KrpcMethod.Ping, q.Method);
        Assert.Equal("aa"u8.ToArray(), q.TransactionId);
        Assert.Equal(new NodeId("abcdefghij0123456789"u8), q.SenderId);
        Assert.Equal("aa"u8.ToArray(), tid);
    }

    [Fact]
    public void TryDecode_Bep5AnnouncePeerExample_CarriesPortTokenAndImpliedPort()
    {
        var m = Decode("d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe", out var status, out _);
        Assert.Equal(KrpcDecodeStatus.Ok, status);
        var q = Assert.IsType<KrpcQuery>(m);
        Assert.Equal(KrpcMethod.AnnouncePeer, q.Method);
        Assert.Equal(6881, q.Port);
        Assert.Equal("aoeusnth"u8.ToArray(), q.Token);
        Assert.False(q.ImpliedPort);
        Assert.Equal(new InfoHash("mnopqrstuvwxyz123456"u8), q.InfoHash);
    }

    [Fact]
    public void EncodeThenDecode_GetPeersResponse_RoundTripsValuesNodesTokenAndIp()
    {
        var nodes = new[] { new DhtContact(NodeId.Random(), new IPEndPoint(IPAddress.Parse("127.0.0.2"), 6881)), new DhtContact(NodeId.Random(), new IPEndPoint(IPAddress.Parse("127.0.0.3"), 6882)) };
        var values = new[] { new IPEndPoint(IPAddress.Parse("127.0.0.9"), 51413) };
        var response = new KrpcResponse([1, 2], Sender) { Nodes = nodes, Values = values, Token = [9, 9, 9, 9] };
        var bytes = KrpcCodec.Encode(response, new IPEndPoint(IPAddress.Parse("127.0.0.5"), 4000));

        Assert.Equal(KrpcDecodeStatus.Ok, KrpcCodec.TryDecode(bytes, out var m, out var tid));
        var r = Assert.IsType<KrpcResponse>(m);
        Assert.Null(tid);
        Assert.Equal(Sender, r.SenderId);
        Assert.Equal(nodes, r.Nodes);
        Assert.Equal(values, r.Values);
        Assert.Equal(new byte[] { 9, 9, 9, 9 }, r.Token);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("127.0.0.5"), 4000), r.RequesterAddress);
    }

    [Theory]
    [InlineData(KrpcMethod.Ping)]
    [InlineData(KrpcMethod.FindNode)]
    [InlineData(KrpcMethod.GetPeers)]
    [InlineData(KrpcMethod.AnnouncePeer)]
    public void EncodeThenDecode_EachQuery_RoundTrips(KrpcMethod method)
    {
        var target = NodeId.Random();
        var hash = new InfoHash(new byte[20]);
        var query = new KrpcQuery([7, 7], method, Sender)
        {
            Target = method == KrpcMethod.FindNode ? target : null,
            InfoHash = method is KrpcMethod.GetPeers or KrpcMethod.AnnouncePeer ? hash : null,
            Port = method == KrpcMethod.AnnouncePeer ? 6881 : 0,
            Token = method == KrpcMethod.AnnouncePeer ? [1, 2, 3] : null,
        };
        Assert.Equal(KrpcDecodeStatus.Ok, KrpcCodec.TryDecode(KrpcCodec.Encode(query), out var m, out _));
        var q = Assert.IsType<KrpcQuery>(m);
        Assert.Equal(method, q.Method);
        Assert.Equal(query.Target, q.Target);
        Assert.Equal(query.InfoHash, q.InfoHash);
        Assert.Equal(query.Port, q.Port);
    }

    [Fact]
    public void TryDecode_Error_IsError()
    {
        var m = Decode("d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee", out var status, out _);
        Assert.Equal(KrpcDecodeStatus.Ok, status);
        var e = Assert.IsType<KrpcError>(m);
        Assert.Equal(201, e.Code);
        Assert.Equal("A Generic Error Ocurred", e.Message);
    }

    [Fact]
    public void TryDecode_UnknownQuery_IsUnknownMethodWithItsTransaction()
    {
        var m = Decode("d1:ad2:id20:abcdefghij0123456789e1:q9:vote_evil1:t2:zz1:y1:qe", out var status, out var tid);
        Assert.Equal(KrpcDecodeStatus.Ok, status);
        Assert.Equal(KrpcMethod.Unknown, Assert.IsType<KrpcQuery>(m).Method);
        Assert.Equal("zz"u8.ToArray(), tid);
    }

    [Theory]
    // id of the wrong length
    [InlineData("d1:ad2:id3:abce1:q4:ping1:t2:aa1:y1:qe")]
    // id is an integer
    [InlineData("d1:ad2:idi5ee1:q4:ping1:t2:aa1:y1:qe")]
    // arguments are a list
    [InlineData("d1:ali1ee1:q4:ping1:t2:aa1:y1:qe")]
    // find_node without target
    [InlineData("d1:ad2:id20:abcdefghij0123456789e1:q9:find_node1:t2:aa1:y1:qe")]
    // announce_peer with port out of range
    [InlineData("d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti70000e5:token2:aae1:q13:announce_peer1:t2:aa1:y1:qe")]
    // announce_peer with a token that is a list
    [InlineData("d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti1e5:tokenlee1:q13:announce_peer1:t2:aa1:y1:qe")]
    public void TryDecode_MalformedQuery_IsMalformedButKeepsTransactionForError203(string text)
    {
        Assert.Null(Decode(text, out var status, out var tid));
        Assert.Equal(KrpcDecodeStatus.Malformed, status);
        Assert.Equal("aa"u8.ToArray(), tid);
    }

    [Theory]
    [InlineData("")]
    [InlineData("le")]
    [InlineData("i5e")]
    [InlineData("d1:t2:aae")]                       // no y
    [InlineData("d1:t0:1:y1:qe")]                   // empty transaction id
    [InlineData("d1:ti5e1:y1:re")]                  // transaction id is an integer
    [InlineData("d1:rle1:t2:aa1:y1:re")]            // r is a list
    [InlineData("d1:rd2:id20:abcdefghij0123456789e1:t2:aa1:y1:xe")] // unknown y
    [InlineData("d1:rd2:id20:abcdefghij01234567896:valuesi5ee1:t2:aa1:y1:re")] // values is an integer
    [InlineData("d1:rd2:id20:abcdefghij0123456789e1:t2:aa1:y1:r")]  // truncated
    [InlineData("d1:eli201ee1:t2:aa1:y1:ee")]       // error without message
    public void TryDecode_HostileOrBroken_IsRefusedWithoutThrowing(string text)
    {
        Assert.Null(Decode(text, out var status, out _));
        Assert.NotEqual(KrpcDecodeStatus.Ok, status);
    }

    [Fact]
    public void TryDecode_HugeValuesList_KeepsAtMostTheCap()
    {
        var sb = new StringBuilder("d1:rd2:id20:abcdefghij01234567896:valuesl");
        for (var i = 0; i < 230; i++) sb.Append("6:\x7f\0\0\x01\x1a\xe1");
        sb.Append("ee1:t2:aa1:y1:re");
        var status = KrpcCodec.TryDecode(Encoding.Latin1.GetBytes(sb.ToString()), out var m, out _);
        // 230 entries take 1,841 bytes: more than one datagram, so refused as a whole.
        Assert.Equal(KrpcDecodeStatus.TooLarge, status);
        Assert.Null(m);
    }

    [Fact]
    public void TryDecode_ListBombWithinDatagram_IsRefusedByTheNodeCap()
    {
        var bomb = "d1:rd2:id20:abcdefghij01234567895:nodesl" + string.Concat(Enumerable.Repeat("le", 700)) + "ee1:t2:aa1:y1:re";
        Assert.True(bomb.Length <= KrpcCodec.MaxMessageLength);
        Assert.Equal(KrpcDecodeStatus.NotBencode, KrpcCodec.TryDecode(Encoding.Latin1.GetBytes(bomb), out _, out _));
    }

    [Fact]
    public void TryDecode_ManyValues_TakesAtMostMaxValues()
    {
        var sb = new StringBuilder("d1:rd2:id20:abcdefghij01234567896:valuesl");
        for (var i = 0; i < 150; i++) sb.Append("6:\x7f\0\0\x01\x1a\xe1");
        sb.Append("ee1:t2:aa1:y1:re");
        Assert.Equal(KrpcDecodeStatus.Ok, KrpcCodec.TryDecode(Encoding.Latin1.GetBytes(sb.ToString()), out var m, out _));
        Assert.Equal(150, Assert.IsType<KrpcResponse>(m).Values.Count);
        Assert.True(KrpcCodec.MaxValues >= 150);
    }

    [Fact]
    public void TryDecode_NodesNotMultipleOf26_ReadsWholeEntriesOnly()
    {
        var nodes = new byte[26 * 2 + 5];
        nodes[20] = 127; nodes[23] = 1; nodes[25] = 80;
        nodes[26 + 20] = 127; nodes[26 + 23] = 2; nodes[26 + 25] = 81;
        var text = "d1:rd2:id20:abcdefghij01234567895:nodes57:" + Encoding.Latin1.GetString(nodes) + "e1:t2:aa1:y1:re";
        Assert.Equal(KrpcDecodeStatus.Ok, KrpcCodec.TryDecode(Encoding.Latin1.GetBytes(text), out var m, out _));
        Assert.Equal(2, Assert.IsType<KrpcResponse>(m).Nodes.Count);
    }
}
