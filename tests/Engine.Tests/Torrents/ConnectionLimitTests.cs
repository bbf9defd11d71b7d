using System.Net;
using TorrentEdge.Engine.Connections;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Protocol;
using TorrentEdge.Engine.Tests.TestSupport;
using TorrentEdge.Engine.Torrents;

namespace TorrentEdge.Engine.Tests.Torrents;

/// <summary>The engine's connection limits hold against many connections, and a download still completes within them.</summary>
public sealed class ConnectionLimitTests() : TempFolderTest("te-connlimits-")
{
    private const int PieceLength = 32 * 1024;

    private async Task<(TorrentMetainfo Meta, byte[] Data)> TorrentAsync(CancellationToken ct) =>
        await EngineTestKit.SingleFileAsync(Path.Combine(Root, "seed", "f.bin"), 4 * PieceLength, 21, ct, PieceLength);

    private async Task<TorrentManager> SeedAsync(ClientEngine seeder, TorrentMetainfo meta, CancellationToken ct)
    {
        var s = await seeder.AddAsync(meta, new AddTorrentOptions { SavePath = Path.Combine(Root, "seed") }, ct);
        await EngineTestKit.WaitForAsync(s, x => x.State == TorrentState.Seeding, ct);
        return s;
    }

    private async Task<bool> ClosedAsync(IPeerConnection c, TimeSpan within, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(within);
        try
        {
            return await c.ReceiveAsync(new byte[1], timeout.Token) == 0;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return false;
        }
    }

    [Fact]
    public async Task Listener_MoreSilentIncomingThanCap_ExtraClosedAtOnceAndDownloadCompletes()
    {
        var ct = TestContext.Current.CancellationToken;
        var (meta, data) = await TorrentAsync(ct);
        await using var seeder = EngineTestKit.NewEngine(o => o with { MaxPendingIncomingConnections = 2 });
        await SeedAsync(seeder, meta, ct);

        // Two connections that never send a handshake hold both slots; a third is closed before it is read.
        var silent = new List<IPeerConnection>();
        IPeerConnection Dial() => EngineTestKit.Network.Connect(seeder.ListenEndPoint!, new IPEndPoint(EngineTestKit.Network.NextAddress(), 50000));
        for (var i = 0; i < 2; i++) silent.Add(Dial());
        await EngineTestKit.WaitForAsync(seeder.Find(meta.InfoHash)!, _ => seeder.PendingIncomingConnections == 2, ct);
        var extra = Dial();
        Assert.True(await ClosedAsync(extra, TimeSpan.FromSeconds(2), ct), "the connection past the cap was not closed");
        Assert.Equal(2, seeder.PendingIncomingConnections);
        Assert.False(await ClosedAsync(silent[0], TimeSpan.FromMilliseconds(200), ct), "a connection within the cap was closed");

        // The silent ones hang up and give their slots back: a real leecher gets in and downloads.
        foreach (var c in silent) await c.DisposeAsync();
        await using var leecher = EngineTestKit.NewEngine();
        var t = await leecher.AddAsync(meta, new AddTorrentOptions { SavePath = Path.Combine(Root, "dl") }, ct);
        await EngineTestKit.WaitForAsync(t, x => x.State == TorrentState.Downloading, ct);
        await EngineTestKit.WaitForAsync(t, _ => seeder.PendingIncomingConnections == 0, ct);
        await EngineTestKit.ConnectAsync(t, seeder);
        await EngineTestKit.WaitForAsync(t, x => x.State == TorrentState.Seeding, ct);
        Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(Root, "dl", "f.bin"), ct));
        Assert.Equal(0, seeder.PendingIncomingConnections);
    }

    [Fact]
    public async Task ConnectionFactory_MoreDialsThanHalfOpenCap_ExtraWaitsForASlotAndDownloadCompletes()
    {
        var ct = TestContext.Current.CancellationToken;
        var (meta, data) = await TorrentAsync(ct);
        await using var seeder = EngineTestKit.NewEngine();
        await SeedAsync(seeder, meta, ct);
        var gate = new GatedFactory(IPAddress.Parse("192.0.2.3"), EngineTestKit.Network.From(EngineTestKit.Network.NextAddress()));
        await using var leecher = EngineTestKit.NewEngine(o => o with { MaxHalfOpenConnections = 2, ConnectionFactory = gate });
        var t = await leecher.AddAsync(meta, new AddTorrentOptions { SavePath = Path.Combine(Root, "dl") }, ct);
        await EngineTestKit.WaitForAsync(t, x => x.State == TorrentState.Downloading, ct);

        // Two dials that never connect hold both half-open slots; the third address is not dialled while they do.
        t.AddPeers(Enumerable.Range(0, 3).Select(i => new IPEndPoint(IPAddress.Parse("192.0.2.3"), 7000 + i)).ToArray());
        await EngineTestKit.WaitForAsync(t, _ => gate.Gated.Count(g => g.ConnectCalled) == 2, ct);
        await Task.Delay(200, ct);
        Assert.Equal(2, gate.Gated.Count);
        Assert.Equal(2, leecher.HalfOpenConnections);

        // The dials fail and give their slots back (the third is dialled then and fails too); a dial that connects downloads the torrent.
        gate.FailAll();
        await EngineTestKit.WaitForAsync(t, _ => gate.Gated.Count == 3 && leecher.HalfOpenConnections == 0, ct);
        await EngineTestKit.ConnectAsync(t, seeder);
        await EngineTestKit.WaitForAsync(t, x => x.State == TorrentState.Seeding, ct);
        Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(Root, "dl", "f.bin"), ct));
        Assert.Equal(0, leecher.HalfOpenConnections);
    }

    [Fact]
    public async Task ConnectTo_FourthConnectionToOneAddress_RefusedAndDownloadCompletes()
    {
        var ct = TestContext.Current.CancellationToken;
        var (meta, data) = await TorrentAsync(ct);
        await using var engine = EngineTestKit.NewEngine();
        var t = await engine.AddAsync(meta, new AddTorrentOptions { SavePath = Path.Combine(Root, "dl") }, ct);
        await EngineTestKit.WaitForAsync(t, x => x.State == TorrentState.Downloading, ct);

        var host = IPAddress.Parse("192.0.2.7");
        var peers = new List<ScriptedPeer>();
        for (var port = 1; port <= 3; port++)
            peers.Add(await ScriptedPeer.ConnectAsync(t, meta.InfoHash, ReservedBits.None, ct, new IPEndPoint(host, 6880 + port)));
        // The engine hangs up on the fourth instead of sending its handshake.
        await Assert.ThrowsAsync<EndOfStreamException>(() => ScriptedPeer.ConnectAsync(t, meta.InfoHash, ReservedBits.None, ct, new IPEndPoint(host, 6884)));
        await EngineTestKit.WaitForAsync(t, x => x.Peers == 3, ct);

        // A peer at another address still gets in and serves the whole torrent.
        await using var other = await ScriptedPeer.ConnectAsync(t, meta.InfoHash, ReservedBits.None, ct, new IPEndPoint(IPAddress.Parse("192.0.2.8"), 6881));
        await other.SendAsync(PeerMessage.Bitfield(new byte[] { 0xF0 }), ct);
        await other.SendAsync(PeerMessage.Unchoke, ct);
        using var serving = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var server = other.ServeAsync(data, PieceLength, serving.Token);
        await EngineTestKit.WaitForAsync(t, x => x.State == TorrentState.Seeding, ct);
        await serving.CancelAsync();
        await server;
        Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(Root, "dl", "f.bin"), ct));
        foreach (var p in peers) await p.DisposeAsync();
    }

    [Fact]
    public async Task ConnectTo_ManyConnectionsFromLoopback_ExemptByDefault()
    {
        var ct = TestContext.Current.CancellationToken;
        var (meta, _) = await TorrentAsync(ct);
        await using var engine = EngineTestKit.NewEngine();
        var t = await engine.AddAsync(meta, new AddTorrentOptions { SavePath = Path.Combine(Root, "dl") }, ct);
        await EngineTestKit.WaitForAsync(t, x => x.State == TorrentState.Downloading, ct);

        var peers = new List<ScriptedPeer>();
        for (var port = 1; port <= 5; port++)
            peers.Add(await ScriptedPeer.ConnectAsync(t, meta.InfoHash, ReservedBits.None, ct, new IPEndPoint(IPAddress.Loopback, 6880 + port)));
        await EngineTestKit.WaitForAsync(t, x => x.Peers == 5, ct);
        foreach (var p in peers) await p.DisposeAsync();
    }

    [Fact]
    public async Task AddPeers_MoreThanCandidateCap_KeepsCapAndDownloadCompletes()
    {
        var ct = TestContext.Current.CancellationToken;
        var (meta, data) = await TorrentAsync(ct);
        await using var engine = EngineTestKit.NewEngine(o => o with { MaxPeerCandidates = 10 });
        var t = await engine.AddAsync(meta, new AddTorrentOptions { SavePath = Path.Combine(Root, "dl"), Paused = true }, ct);
        // Paused, so nothing is dialled; the status shows what is remembered on the next tick.
        t.AddPeers(Enumerable.Range(0, 50).Select(i => new IPEndPoint(IPAddress.Parse("192.0.2.9"), 10000 + i)).ToArray());
        await Task.Delay(TimeSpan.FromSeconds(1.5), ct);
        await EngineTestKit.WaitForAsync(t, x => x.PeersKnown > 0, ct);
        Assert.Equal(10, t.Status.PeersKnown);

        // Dials to those addresses would leave this machine: forget them by filling the set with loopback ones that refuse.
        t.AddPeers(Enumerable.Range(0, 10).Select(i => new IPEndPoint(IPAddress.Parse("127.0.0.9"), 1 + i)).ToArray());
        await t.ResumeAsync(ct);
        await EngineTestKit.WaitForAsync(t, x => x.State == TorrentState.Downloading, ct);
        // While those dials are in progress the set is full of connecting peers and a new address would be dropped.
        await EngineTestKit.WaitForAsync(t, _ => engine.HalfOpenConnections == 0, ct);
        await Task.Delay(300, ct);
        await using var peer = await ScriptedPeer.ConnectAsync(t, meta.InfoHash, ReservedBits.None, ct);
        await peer.SendAsync(PeerMessage.Bitfield(new byte[] { 0xF0 }), ct);
        await peer.SendAsync(PeerMessage.Unchoke, ct);
        using var serving = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var server = peer.ServeAsync(data, PieceLength, serving.Token);
        await EngineTestKit.WaitForAsync(t, x => x.State == TorrentState.Seeding, ct);
        await serving.CancelAsync();
        await server;
        Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(Root, "dl", "f.bin"), ct));
        Assert.True(t.Status.PeersKnown <= 11, t.Status.ToString());
    }

    /// <summary>Dials to <paramref name="gated"/> stay in progress until <see cref="FailAll"/>; others go to <paramref name="other"/>.</summary>
    private sealed class GatedFactory(IPAddress gated, IPeerConnectionFactory other) : IPeerConnectionFactory
    {
        private volatile bool _failed;

        public System.Collections.Concurrent.ConcurrentQueue<GatedConnection> Gated { get; } = new();

        public IPeerConnection Create(IPEndPoint remote)
        {
            if (!remote.Address.Equals(gated)) return other.Create(remote);
            var c = new GatedConnection(remote);
            if (_failed) c.Fail();
            Gated.Enqueue(c);
            return c;
        }

        public void FailAll()
        {
            _failed = true;
            foreach (var c in Gated) c.Fail();
        }
    }

    /// <summary>A dial that stays in progress until the test fails it.</summary>
    private sealed class GatedConnection(IPEndPoint remote) : IPeerConnection
    {
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private volatile bool _connectCalled;
        private volatile bool _disposed;

        public bool ConnectCalled => _connectCalled;
        public bool Disposed => _disposed;
        public EndPoint RemoteEndPoint { get; } = remote;
        public bool IsIncoming => false;

        public void Fail() => _gate.TrySetException(new IOException("refused"));

        public async ValueTask ConnectAsync(CancellationToken cancellationToken)
        {
            _connectCalled = true;
            await _gate.Task.WaitAsync(cancellationToken);
        }

        public ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken) => ValueTask.FromResult(0);

        public ValueTask SendAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken) => throw new IOException("not connected");

        public ValueTask DisposeAsync()
        {
            _disposed = true;
            return ValueTask.CompletedTask;
        }
    }
}
