using System.Net;
using Microsoft.Extensions.Time.Testing;
using TorrentEdge.Engine.Protocol;
using TorrentEdge.Engine.Tests.TestSupport;
using TorrentEdge.Engine.Torrents;

namespace TorrentEdge.Engine.Tests.Torrents;

/// <summary>Strikes and bans count per address, so a banned peer cannot come back from another port (unless configured for NAT).</summary>
public sealed class BanTests() : TempFolderTest("te-ban-")
{
    private static readonly IPAddress Offender = IPAddress.Parse("192.0.2.66");

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Strike_ThreeFromOneAddressOnThreePorts_FourthPortRefusedOnlyWhenBanningByAddress(bool banByAddress)
    {
        var ct = TestContext.Current.CancellationToken;
        var (meta, _) = await EngineTestKit.SingleFileAsync(Path.Combine(Root, "seed", "f.bin"), 64 * 1024, 5, ct);
        await using var engine = EngineTestKit.NewEngine(o => o with { BanByAddress = banByAddress });
        var t = await engine.AddAsync(meta, new AddTorrentOptions { SavePath = Path.Combine(Root, "dl") }, ct);
        await EngineTestKit.WaitForAsync(t, s => s.State == TorrentState.Downloading, ct);
        var block = new byte[BlockRequest.StandardBlockLength];

        // Each connection, from its own port, sends a block it was never asked for: a strike, and it is dropped.
        for (var port = 7001; port <= 7003; port++)
        {
            await using var offender = await ScriptedPeer.ConnectAsync(t, meta.InfoHash, ReservedBits.None, ct, new IPEndPoint(Offender, port));
            await offender.SendAsync(PeerMessage.Piece(0, 0, block), ct);
            Assert.True(await offender.ClosedWithinAsync(TimeSpan.FromSeconds(5), ct), $"port {port} still connected");
        }

        var refused = await RefusedAsync(t, new IPEndPoint(Offender, 7004), ct);

        var banned = EngineTestKit.DrainEvents(engine).OfType<PeerBannedEvent>().ToList();
        if (banByAddress)
        {
            Assert.True(refused, "a banned address came back from another port");
            Assert.Single(banned);
            Assert.Equal(1, t.Status.BannedPeers);
        }
        else
        {
            Assert.False(refused, "one strike per address and port must not ban a fourth port");
            Assert.Empty(banned);
        }
    }

    [Fact]
    public async Task Ban_ThirtyMinutesPassOnTheEngineClock_AddressMayConnectAgain()
    {
        var ct = TestContext.Current.CancellationToken;
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var (meta, _) = await EngineTestKit.SingleFileAsync(Path.Combine(Root, "seed", "f.bin"), 64 * 1024, 5, ct);
        // Room for every port of the offender: once the ban ends the torrent redials its earlier ports too (they refuse).
        await using var engine = EngineTestKit.NewEngine(o => o with { TimeProvider = time, MaxConnectionsPerAddress = 10 });
        var t = await engine.AddAsync(meta, new AddTorrentOptions { SavePath = Path.Combine(Root, "dl") }, ct);
        await EngineTestKit.WaitForAsync(t, s => s.State == TorrentState.Downloading, ct);
        var block = new byte[BlockRequest.StandardBlockLength];
        for (var port = 7001; port <= 7003; port++)
        {
            await using var offender = await ScriptedPeer.ConnectAsync(t, meta.InfoHash, ReservedBits.None, ct, new IPEndPoint(Offender, port));
            await offender.SendAsync(PeerMessage.Piece(0, 0, block), ct);
            Assert.True(await offender.ClosedWithinAsync(TimeSpan.FromSeconds(5), ct), $"port {port} still connected");
        }
        Assert.True(await RefusedAsync(t, new IPEndPoint(Offender, 7004), ct), "not banned after three strikes");

        // No sleeping: the ban's thirty minutes pass on the engine's clock.
        time.Advance(TimeSpan.FromMinutes(29));
        Assert.True(await RefusedAsync(t, new IPEndPoint(Offender, 7005), ct), "the ban ended before thirty minutes");
        time.Advance(TimeSpan.FromMinutes(2));
        Assert.False(await RefusedAsync(t, new IPEndPoint(Offender, 7006), ct), "still banned after thirty minutes");
    }

    /// <summary>Whether the torrent refuses a peer at <paramref name="at"/>: does not dial it, or hangs up at once.</summary>
    private static async Task<bool> RefusedAsync(TorrentManager t, IPEndPoint at, CancellationToken ct)
    {
        try
        {
            await using var peer = await ScriptedPeer.ConnectAsync(t, t.InfoHash, ReservedBits.None, ct, at);
            return await peer.ClosedWithinAsync(TimeSpan.FromSeconds(1), ct);
        }
        catch (EndOfStreamException)
        {
            return true;
        }
    }

    [Fact]
    public async Task IdlePeer_ThreeMinutesSilentOnTheEngineClock_Disconnected()
    {
        var ct = TestContext.Current.CancellationToken;
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var (meta, _) = await EngineTestKit.SingleFileAsync(Path.Combine(Root, "seed", "f.bin"), 64 * 1024, 5, ct);
        await using var engine = EngineTestKit.NewEngine(time: time);
        var t = await engine.AddAsync(meta, new AddTorrentOptions { SavePath = Path.Combine(Root, "dl") }, ct);
        await EngineTestKit.WaitForAsync(t, s => s.State == TorrentState.Downloading, ct);
        await using var silent = await ScriptedPeer.ConnectAsync(t, meta.InfoHash, ReservedBits.None, ct, new IPEndPoint(Offender, 7001));

        for (var i = 0; i < 17; i++)
        {
            time.Advance(TimeSpan.FromSeconds(10));
            await Task.Delay(20, ct);
        }
        Assert.False(await silent.ClosedWithinAsync(TimeSpan.FromMilliseconds(300), ct), "closed before three minutes of silence");
        for (var i = 0; i < 3; i++)
        {
            time.Advance(TimeSpan.FromSeconds(10));
            await Task.Delay(20, ct);
        }
        Assert.True(await silent.ClosedWithinAsync(TimeSpan.FromSeconds(5), ct), "a peer silent for three minutes stayed connected");
    }
}
