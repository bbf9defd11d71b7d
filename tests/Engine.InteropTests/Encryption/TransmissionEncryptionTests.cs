using TorrentEdge.Engine.Encryption;
using TorrentEdge.Engine.InteropTests.Support;
using TorrentEdge.Engine.Torrents;

namespace TorrentEdge.Engine.InteropTests.Encryption;

/// <summary>
/// Message stream encryption against Transmission 3.00 with encryption required (-er): it refuses plaintext peers, so a
/// completed transfer is an encrypted one. Transmission ignores tracker peers on loopback, so we dial it both times.
/// </summary>
public sealed class TransmissionEncryptionTests
{
    private static readonly TimeSpan Bound = LoopbackEngine.Bound;

    private static async Task<ClientEngine> StartEngineAsync(TempDirectory dir, EncryptionPolicy policy, CancellationToken ct)
    {
        var engine = new ClientEngine(new EngineOptions { ListenEndPoint = LoopbackEngine.Loopback(0), DownloadDirectory = dir.Combine("downloads"), Encryption = policy });
        await engine.StartAsync(ct);
        return engine;
    }

    [Fact]
    public async Task Engine_RequireDownloadsFromTransmissionRequiringEncryption_ByteForByte()
    {
        if (!TransmissionPeer.IsAvailable) Assert.Skip("transmission-cli is not installed");
        var ct = TestContext.Current.CancellationToken;
        using var dir = new TempDirectory();
        var (payload, torrent) = await LoopbackEngine.MultiFileTorrentAsync(dir, 41, 15, ct);
        await using var transmission = TransmissionPeer.Start(torrent, payload.Root, dir.CreateSubdirectory("tr-config"), requireEncryption: true);
        await transmission.WaitForSeedingAsync(Bound, ct);

        await using var engine = await StartEngineAsync(dir, EncryptionPolicy.Require, ct);
        var target = dir.CreateSubdirectory("leech");
        var t = await engine.AddTorrentFileAsync(torrent, new AddTorrentOptions { SavePath = target, Peers = [LoopbackEngine.Loopback(transmission.Port)] }, ct);
        var sawEncrypted = 0;
        await Eventually.TrueAsync(() =>
        {
            var s = t.Status;
            sawEncrypted = Math.Max(sawEncrypted, s.EncryptedPeers);
            Assert.Equal(s.Peers, s.EncryptedPeers);
            return s.State == TorrentState.Seeding;
        }, Bound, () => $"{t.Status}\n{transmission.Log}", ct);

        payload.AssertSameAs(target);
        Assert.Equal(1, sawEncrypted);
    }

    [Fact]
    public async Task TransmissionRequiringEncryption_DownloadsFromRequireEngineSeeder_ByteForByte()
    {
        if (!TransmissionPeer.IsAvailable) Assert.Skip("transmission-cli is not installed");
        var ct = TestContext.Current.CancellationToken;
        using var dir = new TempDirectory();
        var (payload, torrent) = await LoopbackEngine.MultiFileTorrentAsync(dir, 42, 15, ct);
        var target = dir.CreateSubdirectory("leech");
        await using var transmission = TransmissionPeer.Start(torrent, target, dir.CreateSubdirectory("tr-config"), requireEncryption: true);

        await using var engine = await StartEngineAsync(dir, EncryptionPolicy.Require, ct);
        var t = await engine.AddTorrentFileAsync(torrent, new AddTorrentOptions { SavePath = payload.Root, Peers = [LoopbackEngine.Loopback(transmission.Port)] }, ct);
        var sawEncrypted = 0;
        var finished = transmission.WaitForFinishedAsync(Bound, ct);
        while (!finished.IsCompleted)
        {
            sawEncrypted = Math.Max(sawEncrypted, t.Status.EncryptedPeers);
            await Task.WhenAny(finished, Task.Delay(50, ct));
        }
        await finished;

        payload.AssertSameAs(target);
        Assert.Equal(1, sawEncrypted);
    }
}
