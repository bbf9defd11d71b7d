using System.Net;
using TorrentEdge.Engine.Encryption;
using TorrentEdge.Engine.InteropTests.Support;
using TorrentEdge.Engine.Torrents;

namespace TorrentEdge.Engine.InteropTests.Encryption;

/// <summary>
/// Message stream encryption against libtorrent 2.0.8: with its policies forced and RC4 the only level it allows,
/// a plaintext connection cannot happen, so a completed transfer is an encrypted one; and our engine under require
/// does not talk to a libtorrent that has encryption disabled, in either direction.
/// </summary>
public sealed class LibtorrentEncryptionTests
{
    private static readonly TimeSpan Bound = LoopbackEngine.Bound;

    private static async Task<ClientEngine> StartEngineAsync(TempDirectory dir, EncryptionPolicy policy, CancellationToken ct)
    {
        var engine = new ClientEngine(new EngineOptions
        {
            ListenEndPoint = LoopbackEngine.Loopback(0),
            DownloadDirectory = dir.Combine("downloads"),
            Encryption = policy,
        });
        await engine.StartAsync(ct);
        return engine;
    }

    [Fact]
    public async Task Engine_RequireDownloadsFromForcedLibtorrentSeeder_ByteForByteOverRc4()
    {
        if (!LibtorrentPeer.IsAvailable) Assert.Skip("python3-libtorrent is not installed for /usr/bin/python3");
        var ct = TestContext.Current.CancellationToken;
        using var dir = new TempDirectory();
        var (payload, torrent) = await LoopbackEngine.ThirtyFiveFileTorrentAsync(dir, 31, 24L * 1024 * 1024, 16, ct);
        await using var seeder = await LibtorrentPeer.StartAsync(new LibtorrentOptions
        { Seed = true, TorrentPath = torrent, SavePath = payload.Root, Encryption = "forced" }, ct);
        await seeder.WaitForSeedingAsync(Bound, ct);

        await using var engine = await StartEngineAsync(dir, EncryptionPolicy.Require, ct);
        var target = dir.CreateSubdirectory("leech");
        var t = await engine.AddTorrentFileAsync(torrent, new AddTorrentOptions { SavePath = target, Peers = [LoopbackEngine.Loopback(seeder.Port)] }, ct);
        var sawEncrypted = 0;
        await Eventually.TrueAsync(() =>
        {
            var s = t.Status;
            sawEncrypted = Math.Max(sawEncrypted, s.EncryptedPeers);
            Assert.Equal(s.Peers, s.EncryptedPeers); // never a plaintext peer
            return s.State == TorrentState.Seeding;
        }, Bound, () => $"{t.Status}\n{seeder.Log}", ct);

        payload.AssertSameAs(target);
        Assert.Equal(payload.TotalLength, t.Status.BytesDone);
        Assert.Equal(1, sawEncrypted);
    }

    [Fact]
    public async Task ForcedLibtorrent_DownloadsFromRequireEngineSeeder_ByteForByteOverRc4()
    {
        if (!LibtorrentPeer.IsAvailable) Assert.Skip("python3-libtorrent is not installed for /usr/bin/python3");
        var ct = TestContext.Current.CancellationToken;
        using var dir = new TempDirectory();
        var (payload, torrent) = await LoopbackEngine.ThirtyFiveFileTorrentAsync(dir, 32, 24L * 1024 * 1024, 16, ct);

        await using var engine = await StartEngineAsync(dir, EncryptionPolicy.Require, ct);
        var t = await engine.AddTorrentFileAsync(torrent, new AddTorrentOptions { SavePath = payload.Root }, ct);
        await Eventually.TrueAsync(() => t.State == TorrentState.Seeding, Bound, () => t.Status.ToString(), ct);

        var target = dir.CreateSubdirectory("leech");
        // libtorrent dials us: the listener must take its encrypted handshake on the same port as plaintext ones.
        await using var leecher = await LibtorrentPeer.StartAsync(new LibtorrentOptions
        { Seed = false, TorrentPath = torrent, SavePath = target, Peers = [engine.ListenEndPoint!.ToString()], Encryption = "forced" }, ct);
        var sawEncrypted = 0;
        var finished = leecher.WaitForFinishedAsync(Bound, ct);
        while (!finished.IsCompleted)
        {
            sawEncrypted = Math.Max(sawEncrypted, t.Status.EncryptedPeers);
            await Task.WhenAny(finished, Task.Delay(50, ct));
        }
        await finished;

        payload.AssertSameAs(target);
        Assert.True(t.Status.Uploaded >= payload.TotalLength, t.Status.ToString());
        Assert.Equal(1, sawEncrypted);
    }

    [Fact]
    public async Task Engine_RequireAgainstLibtorrentWithEncryptionDisabled_NoConnectionEitherWay()
    {
        if (!LibtorrentPeer.IsAvailable) Assert.Skip("python3-libtorrent is not installed for /usr/bin/python3");
        var ct = TestContext.Current.CancellationToken;
        using var dir = new TempDirectory();
        var (payload, torrent) = await LoopbackEngine.MultiFileTorrentAsync(dir, 33, 15, ct);
        await using var seeder = await LibtorrentPeer.StartAsync(new LibtorrentOptions
        { Seed = true, TorrentPath = torrent, SavePath = payload.Root, Encryption = "disabled" }, ct);
        await seeder.WaitForSeedingAsync(Bound, ct);

        await using var engine = await StartEngineAsync(dir, EncryptionPolicy.Require, ct);
        var target = dir.CreateSubdirectory("leech");
        // We dial it (MSE, which it refuses), and it dials us (plaintext, which we refuse): it also gets our address.
        var t = await engine.AddTorrentFileAsync(torrent, new AddTorrentOptions { SavePath = target, Peers = [LoopbackEngine.Loopback(seeder.Port)] }, ct);
        await using var dialler = await LibtorrentPeer.StartAsync(new LibtorrentOptions
        { Seed = true, TorrentPath = torrent, SavePath = payload.Root, Encryption = "disabled", Peers = [engine.ListenEndPoint!.ToString()] }, ct);
        await dialler.WaitForSeedingAsync(Bound, ct);

        // Long enough for several dials each way (lt_peer.py redials every 2 s; our first dial is immediate).
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(8);
        while (DateTime.UtcNow < until)
        {
            Assert.Equal(0, t.Status.Peers);
            await Task.Delay(100, ct);
        }
        Assert.Equal(0, t.Status.BytesDone);
        Assert.Equal(0, t.Status.Downloaded);
        // Both attempts really happened: the seeder saw our (encrypted) dial arrive, the dialler lost its connection to us.
        await seeder.WaitForAlertAsync("incoming_connection_alert", TimeSpan.FromSeconds(5), ct);
        await dialler.WaitForAlertAsync("peer_disconnected_alert", TimeSpan.FromSeconds(5), ct);
    }
}
