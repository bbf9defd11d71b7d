using TorrentEdge.Engine.Connections;
using TorrentEdge.Engine.Encryption;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Tests.TestSupport;
using TorrentEdge.Engine.Torrents;

namespace TorrentEdge.Engine.Tests.Encryption;

/// <summary>Two engines over in-memory pairs with encryption policies on both sides: the listener's routing and the status.</summary>
public sealed class EncryptedTransferTests() : TempFolderTest("te-mse-")
{
    private static ClientEngine NewEngine(EncryptionPolicy policy) =>
        EngineTestKit.NewEngine(o => o with { Encryption = policy });

    /// <summary>
    /// Makes <paramref name="torrent"/> dial <paramref name="to"/> as it dials any peer it hears of: through its engine's
    /// connection factory, negotiating by the torrent's policy (<see cref="TorrentManager.Encryption"/>).
    /// </summary>
    private static void Dial(TorrentManager torrent, ClientEngine to, EncryptionPolicy policy)
    {
        Assert.Equal(policy, torrent.Encryption);
        torrent.AddPeer(to.ListenEndPoint!);
    }

    private async Task<(TorrentManager Seed, TorrentManager Leech, byte[] Data, TorrentMetainfo Meta)> SetUpAsync(ClientEngine seeder, ClientEngine leecher,
        CancellationToken ct, AddTorrentOptions? seedOptions = null)
    {
        var (meta, data) = await EngineTestKit.SingleFileAsync(Path.Combine(Root, "seed", "a.bin"), 300_001, 5, ct);
        var s = await seeder.AddAsync(meta, (seedOptions ?? new AddTorrentOptions()) with { SavePath = Path.Combine(Root, "seed") }, ct);
        await EngineTestKit.WaitForAsync(s, x => x.State == TorrentState.Seeding, ct);
        var t = await leecher.AddAsync(meta, new AddTorrentOptions { SavePath = Path.Combine(Root, "leech") }, ct);
        await EngineTestKit.WaitForAsync(t, x => x.State == TorrentState.Downloading, ct);
        return (s, t, data, meta);
    }

    [Fact]
    public async Task Download_RequireOnBothSides_CompletesByteForByteAndStatusCountsEncryptedPeers()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var seeder = NewEngine(EncryptionPolicy.Require);
        // Slowed to about 2 s, so both sides report the connection before the finished leecher drops it (seed to seed):
        // at full speed the 300 KB took less than a status update, and the leecher's count was sometimes read after it.
        await using var leecher = EngineTestKit.NewEngine(o => o with { Encryption = EncryptionPolicy.Require, DownloadRateLimit = 150_000 });
        var (s, t, data, _) = await SetUpAsync(seeder, leecher, ct);

        Dial(t, seeder, EncryptionPolicy.Require);
        await EngineTestKit.WaitForAsync(s, x => x.Peers == 1 && x.EncryptedPeers == 1, ct);
        await EngineTestKit.WaitForAsync(t, x => x.Peers == 1 && x.EncryptedPeers == 1, ct);
        await EngineTestKit.WaitForAsync(t, x => x.State == TorrentState.Seeding, ct);
        Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(Root, "leech", "a.bin"), ct));
    }

    [Fact]
    public async Task SetEncryption_ToRequireWhileAPlaintextPeerDownloads_ClosesItAndRefusesItAfter()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var seeder = NewEngine(EncryptionPolicy.Prefer);
        // Slow, so the plaintext peer is still downloading when the policy changes.
        await using var leecher = EngineTestKit.NewEngine(o => o with { Encryption = EncryptionPolicy.Disable, DownloadRateLimit = 20_000 });
        var (s, t, _, _) = await SetUpAsync(seeder, leecher, ct);
        Dial(t, seeder, EncryptionPolicy.Disable);
        await EngineTestKit.WaitForAsync(s, x => x.Peers == 1, ct);
        Assert.Equal(0, s.Status.EncryptedPeers);

        await seeder.SetEncryptionAsync(s.InfoHash, EncryptionPolicy.Require, ct);

        Assert.Equal(EncryptionPolicy.Require, s.Encryption);
        await EngineTestKit.WaitForAsync(s, x => x.Peers == 0, ct);
        await EngineTestKit.ConnectAsync(t, seeder); // dials again, in plaintext
        await Task.Delay(1500, ct);
        Assert.Equal(0, s.Status.Peers);
        Assert.NotEqual(TorrentState.Seeding, t.Status.State);
    }

    [Fact]
    public async Task Accept_RequireAndAPlaintextPeer_NeverConnects()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var seeder = NewEngine(EncryptionPolicy.Require);
        await using var leecher = NewEngine(EncryptionPolicy.Disable);
        var (s, t, _, _) = await SetUpAsync(seeder, leecher, ct);

        await EngineTestKit.ConnectAsync(t, seeder); // a plain dial, as a client without encryption makes
        await Task.Delay(1500, ct);
        Assert.Equal(0, s.Status.Peers);
        Assert.Equal(0, t.Status.Peers);
        Assert.Equal(0, t.Status.BytesDone);
    }

    [Fact]
    public async Task Accept_TorrentOverrideRequireOnAPreferringEngine_RefusesPlaintextButTakesEncrypted()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var seeder = NewEngine(EncryptionPolicy.Prefer);
        await using var leecher = NewEngine(EncryptionPolicy.Prefer);
        await using var plain = NewEngine(EncryptionPolicy.Disable);
        var (s, t, data, meta) = await SetUpAsync(seeder, leecher, ct, new AddTorrentOptions { Encryption = EncryptionPolicy.Require });
        Assert.Equal(EncryptionPolicy.Require, s.Encryption);

        // A client without encryption dials in plaintext: the torrent's override refuses it.
        var p = await plain.AddAsync(meta, new AddTorrentOptions { SavePath = Path.Combine(Root, "plain") }, ct);
        await EngineTestKit.WaitForAsync(p, x => x.State == TorrentState.Downloading, ct);
        Dial(p, seeder, EncryptionPolicy.Disable);
        await Task.Delay(1000, ct);
        Assert.Equal(0, s.Status.Peers);
        Assert.Equal(0, p.Status.BytesDone);

        // A preferring client negotiates MSE and is taken.
        Dial(t, seeder, EncryptionPolicy.Prefer);
        await EngineTestKit.WaitForAsync(t, x => x.State == TorrentState.Seeding, ct);
        Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(Root, "leech", "a.bin"), ct));
    }

    [Fact]
    public async Task Dial_PreferAgainstADisablingEngine_FallsBackToPlaintextAndCompletes()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var seeder = NewEngine(EncryptionPolicy.Disable);
        await using var leecher = NewEngine(EncryptionPolicy.Prefer);
        var (s, t, data, _) = await SetUpAsync(seeder, leecher, ct);

        Dial(t, seeder, EncryptionPolicy.Prefer);
        await EngineTestKit.WaitForAsync(s, x => x.Peers == 1, ct);
        // Connected, and in plaintext: the preferring dial fell back.
        Assert.Equal(0, s.Status.EncryptedPeers);
        Assert.Equal(0, t.Status.EncryptedPeers);
        await EngineTestKit.WaitForAsync(t, x => x.State == TorrentState.Seeding, ct);
        Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(Root, "leech", "a.bin"), ct));
    }

    [Fact]
    public async Task Dial_RequireAgainstADisablingEngine_NeverConnects()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var seeder = NewEngine(EncryptionPolicy.Disable);
        await using var leecher = NewEngine(EncryptionPolicy.Require);
        var (s, t, _, _) = await SetUpAsync(seeder, leecher, ct);

        Dial(t, seeder, EncryptionPolicy.Require);
        await Task.Delay(1500, ct);
        Assert.Equal(0, s.Status.Peers);
        Assert.Equal(0, t.Status.Peers);
    }
}
