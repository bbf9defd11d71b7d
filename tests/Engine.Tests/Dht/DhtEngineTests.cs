using System.Net;
using System.Net.Sockets;
using System.Text;
using TorrentEdge.Engine.Dht;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Tests.TestSupport;

namespace TorrentEdge.Engine.Tests.Dht;

/// <summary>Our DHT nodes on 127.0.0.x over real UDP: they find each other, store and find peers, survive floods, keep their table.</summary>
public sealed class DhtEngineTests() : TempFolderTest("dht-")
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    private static DhtOptions Fast(string address, params string[] bootstrap) => new()
    {
        ListenEndPoint = new IPEndPoint(IPAddress.Parse(address), 0),
        BootstrapNodes = bootstrap,
        QueryTimeout = TimeSpan.FromSeconds(1),
        LookupTimeout = TimeSpan.FromSeconds(10),
        MaintenanceInterval = TimeSpan.FromMinutes(10),
    };

    private static InfoHash Hash(byte b)
    {
        var bytes = new byte[20];
        Array.Fill(bytes, b);
        return new InfoHash(bytes);
    }

    [Fact]
    public async Task GetPeersAsync_FiveNodesOnLoopback_FindEachOtherAndTheAnnouncedPeer()
    {
        var ct = TestContext.Current.CancellationToken;
        var nodes = new List<DhtEngine>();
        try
        {
            var first = new DhtEngine(Fast("127.0.0.2"));
            first.Start();
            nodes.Add(first);
            var entry = first.LocalEndPoint!.ToString();
            for (var i = 3; i <= 6; i++)
            {
                var node = new DhtEngine(Fast($"127.0.0.{i}", entry));
                node.Start();
                nodes.Add(node);
            }
            // A second round lets the first joiners learn of the later ones (each starts its own bootstrap too).
            foreach (var n in nodes) await n.BootstrapAsync(ct).WaitAsync(Bound, ct);
            foreach (var n in nodes) Assert.True(n.NodeCount >= 3, $"{n.LocalEndPoint} knows {n.NodeCount} nodes");

            var hash = Hash(0xab);
            var announced = await nodes[2].GetPeersAsync(hash, announcePort: 7000, ct).WaitAsync(Bound, ct);
            Assert.Empty(announced);
            Assert.Contains(nodes, n => n.Peers.Get(hash).Count > 0);

            var found = await nodes[4].GetPeersAsync(hash, null, ct).WaitAsync(Bound, ct);
            Assert.Contains(new IPEndPoint(IPAddress.Parse("127.0.0.4"), 7000), found);
        }
        finally
        {
            foreach (var n in nodes) await n.DisposeAsync();
        }
    }

    [Fact]
    public async Task AnnouncePeer_WithoutValidToken_IsRefusedWithError203()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var node = new DhtEngine(Fast("127.0.0.2"));
        node.Start();
        using var client = new UdpClient(new IPEndPoint(IPAddress.Parse("127.0.0.7"), 0));
        var query = new KrpcQuery([1, 1], KrpcMethod.AnnouncePeer, NodeId.Random()) { InfoHash = Hash(1), Port = 9999, Token = [1, 2, 3, 4] };
        await client.SendAsync(KrpcCodec.Encode(query), node.LocalEndPoint!, ct);
        var reply = await client.ReceiveAsync(ct).AsTask().WaitAsync(Bound, ct);
        Assert.Equal(KrpcDecodeStatus.Ok, KrpcCodec.TryDecode(reply.Buffer, out var m, out _));
        Assert.Equal(KrpcError.Protocol, Assert.IsType<KrpcError>(m).Code);
        Assert.Empty(node.Peers.Get(Hash(1)));
    }

    [Fact]
    public async Task HandleDatagram_UnknownMethod_AnswersError204()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var node = new DhtEngine(Fast("127.0.0.2"));
        node.Start();
        using var client = new UdpClient(new IPEndPoint(IPAddress.Parse("127.0.0.7"), 0));
        await client.SendAsync(Encoding.Latin1.GetBytes("d1:ad2:id20:abcdefghij0123456789e1:q9:vote_evil1:t2:zz1:y1:qe"), node.LocalEndPoint!, ct);
        var reply = await client.ReceiveAsync(ct).AsTask().WaitAsync(Bound, ct);
        KrpcCodec.TryDecode(reply.Buffer, out var m, out _);
        var error = Assert.IsType<KrpcError>(m);
        Assert.Equal(KrpcError.MethodUnknown, error.Code);
        Assert.Equal("zz"u8.ToArray(), error.TransactionId);
    }

    [Fact]
    public async Task Storm_MalformedAndFloodingQueries_AreDroppedTableStaysBoundedAndNodeStillAnswers()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var node = new DhtEngine(Fast("127.0.0.2"));
        node.Start();
        using var attacker = new UdpClient(new IPEndPoint(IPAddress.Parse("127.0.0.9"), 0));
        var junk = new[]
        {
            Encoding.Latin1.GetBytes("d1:ad2:id3:abce1:q4:ping1:t2:aa1:y1:qe"),
            Encoding.Latin1.GetBytes("d1:rd2:id20:abcdefghij0123456789e1:t2:aa1:y1:r"),
            Encoding.Latin1.GetBytes("l" + string.Concat(Enumerable.Repeat("le", 700)) + "e"),
            new byte[1400],
        };
        var sent = 0;
        for (var i = 0; i < 4000; i++)
        {
            // Announces with made-up tokens and info-hashes, gets, pings and junk, as fast as one socket sends.
            byte[] datagram = (i % 4) switch
            {
                0 => KrpcCodec.Encode(new KrpcQuery([(byte)i, 1], KrpcMethod.AnnouncePeer, NodeId.Random()) { InfoHash = Hash((byte)i), Port = 1 + i, Token = [1] }),
                1 => KrpcCodec.Encode(new KrpcQuery([(byte)i, 2], KrpcMethod.GetPeers, NodeId.Random()) { InfoHash = Hash((byte)i) }),
                2 => KrpcCodec.Encode(new KrpcQuery([(byte)i, 3], KrpcMethod.Ping, NodeId.Random())),
                _ => junk[i / 4 % junk.Length],
            };
            await attacker.SendAsync(datagram, node.LocalEndPoint!, ct);
            sent++;
        }
        await Task.Delay(500, ct);
        var status = node.Status;
        Assert.True(status.QueriesDropped > 0, $"dropped {status.QueriesDropped} of {status.QueriesReceived}");
        Assert.True(status.MalformedReceived > 0);
        Assert.Equal(0, status.StoredPeers);
        // One address, one routing-table entry at most, whatever ids it claims.
        Assert.True(status.Nodes <= 1, $"{status.Nodes} nodes");

        var answered = 0;
        while (attacker.Available > 0 && answered < sent) { await attacker.ReceiveAsync(ct); answered++; }
        Assert.True(answered < 100, $"{answered} answers to one flooding address");

        using var honest = new UdpClient(new IPEndPoint(IPAddress.Parse("127.0.0.10"), 0));
        await honest.SendAsync(KrpcCodec.Encode(new KrpcQuery([9, 9], KrpcMethod.Ping, NodeId.Random())), node.LocalEndPoint!, ct);
        var reply = await honest.ReceiveAsync(ct).AsTask().WaitAsync(Bound, ct);
        KrpcCodec.TryDecode(reply.Buffer, out var m, out _);
        Assert.Equal(node.Id, Assert.IsType<KrpcResponse>(m).SenderId);
    }

    [Fact]
    public async Task StateFile_AfterRestart_KeepsIdAndRoutingTable()
    {
        var ct = TestContext.Current.CancellationToken;
        var file = Path.Combine(Root, "dht.bencode");
        await using var other = new DhtEngine(Fast("127.0.0.3"));
        other.Start();
        NodeId id;
        await using (var node = new DhtEngine(Fast("127.0.0.2", other.LocalEndPoint!.ToString()) with { StateFile = file }))
        {
            node.Start();
            await node.BootstrapAsync(ct).WaitAsync(Bound, ct);
            Assert.Equal(1, node.NodeCount);
            id = node.Id;
        }
        Assert.True(File.Exists(file));

        await using var again = new DhtEngine(Fast("127.0.0.2") with { StateFile = file });
        Assert.Equal(id, again.Id);
        Assert.Equal(other.Id, Assert.Single(again.Contacts()).Id);
    }

    [Fact]
    public async Task StateFile_Damaged_StartsAfresh()
    {
        var file = Path.Combine(Root, "dht.bencode");
        await File.WriteAllTextAsync(file, "d2:id3:abc5:nodesi5ee", TestContext.Current.CancellationToken);
        await using var node = new DhtEngine(Fast("127.0.0.2") with { StateFile = file });
        Assert.Empty(node.Contacts());
    }
}
