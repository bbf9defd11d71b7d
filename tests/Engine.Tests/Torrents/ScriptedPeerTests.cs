using System.Buffers.Binary;
using TorrentEdge.Engine.Connections;
using TorrentEdge.Engine.Creation;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Protocol;
using TorrentEdge.Engine.Storage;
using TorrentEdge.Engine.Torrents;

namespace TorrentEdge.Engine.Tests.Torrents;

/// <summary>The torrent loop against a peer scripted byte by byte over an in-memory connection.</summary>
public sealed class ScriptedPeerTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "te-scripted-" + Guid.NewGuid().ToString("N"));

    public ScriptedPeerTests() => Directory.CreateDirectory(_root);

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static async Task ReadExactlyAsync(IPeerConnection c, Memory<byte> buffer, CancellationToken ct)
    {
        while (buffer.Length > 0)
        {
            var n = await c.ReceiveAsync(buffer, ct);
            if (n == 0) throw new EndOfStreamException();
            buffer = buffer[n..];
        }
    }

    [Fact]
    public async Task FilePriorities_HighLowSkip_HighPiecesRequestedFirstSkipNever()
    {
        var ct = TestContext.Current.CancellationToken;
        const int pieceLength = 16 * 1024;
        var folder = Path.Combine(_root, "content");
        Directory.CreateDirectory(folder);
        var random = new Random(21);
        foreach (var name in new[] { "a.bin", "b.bin", "c.bin" })
        {
            var bytes = new byte[3 * pieceLength];
            random.NextBytes(bytes);
            await File.WriteAllBytesAsync(Path.Combine(folder, name), bytes, ct);
        }
        var meta = TorrentMetainfo.Parse(await TorrentCreator.CreateAsync(folder, new TorrentCreatorOptions { PieceLength = pieceLength }, ct));
        Assert.Equal(9, meta.PieceCount);
        var priorities = meta.Files.Select(f => f.Path.EndsWith("a.bin", StringComparison.Ordinal) ? FilePriority.Low
            : f.Path.EndsWith("b.bin", StringComparison.Ordinal) ? FilePriority.High : FilePriority.Skip).ToArray();
        int PieceOf(string name) => (int)(meta.Files.Single(f => f.Path.EndsWith(name, StringComparison.Ordinal)).Offset / pieceLength);
        var low = Enumerable.Range(PieceOf("a.bin"), 3).ToHashSet();
        var high = Enumerable.Range(PieceOf("b.bin"), 3).ToHashSet();
        await using var engine = new ClientEngine(new EngineOptions { ListenEndPoint = null });
        var t = await engine.AddAsync(meta, new AddTorrentOptions { SavePath = Path.Combine(_root, "dl"), FilePriorities = priorities }, ct);
        while (t.State != TorrentState.Downloading) await Task.Delay(10, ct);

        var (ours, seed) = InMemoryPeerConnection.CreatePair();
        t.ConnectTo(ours);
        var handshake = new byte[Handshake.Length];
        await ReadExactlyAsync(seed, handshake, ct);
        new Handshake(ReservedBits.None, meta.InfoHash.ToArray(), PeerId.Generate("-XX0001-")).Encode(handshake);
        await seed.SendAsync(handshake, ct);
        // Bitfield with all 9 pieces, then unchoke; the requests are recorded, never answered.
        await seed.SendAsync(new byte[] { 0, 0, 0, 3, 5, 0xFF, 0x80, 0, 0, 0, 1, 1 }, ct);

        var requested = new List<int>();
        var header = new byte[4];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(20));
        try
        {
            while (true)
            {
                await ReadExactlyAsync(seed, header, timeout.Token);
                var length = BinaryPrimitives.ReadInt32BigEndian(header);
                if (length == 0) continue;
                var body = new byte[length];
                await ReadExactlyAsync(seed, body, timeout.Token);
                if (body[0] != (byte)MessageId.Request) continue;
                requested.Add(BinaryPrimitives.ReadInt32BigEndian(body.AsSpan(1)));
                // Once the wanted pieces are all asked for, listen a little longer for anything skipped.
                if (requested.Count == 6) timeout.CancelAfter(TimeSpan.FromSeconds(1));
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
        }

        Assert.Equal(6, requested.Count);
        Assert.Equal(high, requested.Take(3).ToHashSet());
        Assert.Equal(low, requested.Skip(3).ToHashSet());
    }

    [Fact]
    public async Task Sequential_AllPiecesOffered_RequestsInPieceOrder()
    {
        var ct = TestContext.Current.CancellationToken;
        var content = Path.Combine(_root, "seq.bin");
        var data = new byte[10 * 16 * 1024];
        new Random(22).NextBytes(data);
        await File.WriteAllBytesAsync(content, data, ct);
        var meta = TorrentMetainfo.Parse(await TorrentCreator.CreateAsync(content, new TorrentCreatorOptions { PieceLength = 16 * 1024 }, ct));
        await using var engine = new ClientEngine(new EngineOptions { ListenEndPoint = null });
        var t = await engine.AddAsync(meta, new AddTorrentOptions { SavePath = Path.Combine(_root, "dl"), Sequential = true }, ct);
        while (t.State != TorrentState.Downloading) await Task.Delay(10, ct);

        var (ours, seed) = InMemoryPeerConnection.CreatePair();
        t.ConnectTo(ours);
        var handshake = new byte[Handshake.Length];
        await ReadExactlyAsync(seed, handshake, ct);
        new Handshake(ReservedBits.None, meta.InfoHash.ToArray(), PeerId.Generate("-XX0001-")).Encode(handshake);
        await seed.SendAsync(handshake, ct);
        await seed.SendAsync(new byte[] { 0, 0, 0, 3, 5, 0xFF, 0xC0, 0, 0, 0, 1, 1 }, ct);

        var requested = new List<int>();
        var header = new byte[4];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(20));
        while (requested.Count < 10)
        {
            await ReadExactlyAsync(seed, header, timeout.Token);
            var length = BinaryPrimitives.ReadInt32BigEndian(header);
            if (length == 0) continue;
            var body = new byte[length];
            await ReadExactlyAsync(seed, body, timeout.Token);
            if (body[0] == (byte)MessageId.Request) requested.Add(BinaryPrimitives.ReadInt32BigEndian(body.AsSpan(1)));
        }

        Assert.Equal(Enumerable.Range(0, 10), requested);
    }

    [Fact]
    public async Task CorruptPeer_SendsGarbageForThreePieces_IsBannedAndDisconnected()
    {
        var ct = TestContext.Current.CancellationToken;
        var content = Path.Combine(_root, "content.bin");
        var data = new byte[10 * 16 * 1024];
        new Random(9).NextBytes(data);
        await File.WriteAllBytesAsync(content, data, ct);
        var meta = TorrentMetainfo.Parse(await TorrentCreator.CreateAsync(content, new TorrentCreatorOptions { PieceLength = 16 * 1024 }, ct));
        await using var engine = new ClientEngine(new EngineOptions { ListenEndPoint = null });
        var t = await engine.AddAsync(meta, new AddTorrentOptions { SavePath = Path.Combine(_root, "dl") }, ct);
        while (t.State != TorrentState.Downloading) await Task.Delay(10, ct);

        var (ours, liar) = InMemoryPeerConnection.CreatePair();
        t.ConnectTo(ours);
        var handshake = new byte[Handshake.Length];
        await ReadExactlyAsync(liar, handshake, ct);
        Assert.Equal(HandshakeStatus.Complete, Handshake.TryParse(handshake, out _));
        new Handshake(ReservedBits.None, meta.InfoHash.ToArray(), PeerId.Generate("-XX0001-")).Encode(handshake);
        await liar.SendAsync(handshake, ct);
        // Bitfield with all 10 pieces, then unchoke.
        await liar.SendAsync(new byte[] { 0, 0, 0, 3, 5, 0xFF, 0xC0, 0, 0, 0, 1, 1 }, ct);

        var header = new byte[4];
        var garbage = new byte[13 + 16 * 1024];
        var closed = false;
        Exception? ending = null;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(20));
        try
        {
            while (true)
            {
                await ReadExactlyAsync(liar, header, timeout.Token);
                var length = BinaryPrimitives.ReadInt32BigEndian(header);
                if (length == 0) continue;
                var body = new byte[length];
                await ReadExactlyAsync(liar, body, timeout.Token);
                if (body[0] != (byte)MessageId.Request) continue;
                BinaryPrimitives.WriteInt32BigEndian(garbage, 9 + 16 * 1024);
                garbage[4] = (byte)MessageId.Piece;
                body.AsSpan(1, 8).CopyTo(garbage.AsSpan(5));
                await liar.SendAsync(garbage, timeout.Token);
            }
        }
        catch (Exception e) when (e is EndOfStreamException or InvalidOperationException or ObjectDisposedException or IOException)
        {
            closed = true;
            ending = e;
        }

        Assert.True(closed);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (t.Status.BannedPeers == 0 && DateTime.UtcNow < deadline) await Task.Delay(20, ct);
        Assert.True(t.Status.HashFailures >= 3, t.Status + "\n" + ending);
        Assert.Equal(0, t.Status.PiecesHave);
        var events = new List<TorrentEvent>();
        while (engine.Events.TryRead(out var e)) events.Add(e);
        Assert.Single(events.OfType<PeerBannedEvent>());
        Assert.Equal(1, t.Status.BannedPeers);
    }
}
