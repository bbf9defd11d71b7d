namespace TorrentEdge.Engine.InteropTests.Support;

/// <summary>Proves the wrappers around the real clients work before our engine is put between them.</summary>
public sealed class HarnessSmokeTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Libtorrent_SeedsToLibtorrent_ByteForByte()
    {
        if (!LibtorrentPeer.IsAvailable) Assert.Skip("python3-libtorrent is not installed for /usr/bin/python3");
        var ct = TestContext.Current.CancellationToken;
        using var dir = new TempDirectory();
        var payload = TestPayload.MultiFileOddSizes(dir.CreateSubdirectory("seed"));
        var torrent = dir.Combine("t.torrent");
        await MkTorrent.CreateAsync(payload.ContentPath, torrent, [], 15, ct);

        await using var seeder = await LibtorrentPeer.StartAsync(new LibtorrentOptions { Seed = true, TorrentPath = torrent, SavePath = payload.Root }, ct);
        await seeder.WaitForSeedingAsync(Bound, ct);
        var target = dir.CreateSubdirectory("leech");
        await using var leecher = await LibtorrentPeer.StartAsync(new LibtorrentOptions
        { Seed = false, TorrentPath = torrent, SavePath = target, Peers = [seeder.Endpoint] }, ct);
        await leecher.WaitForFinishedAsync(Bound, ct);

        payload.AssertSameAs(target);
    }

    [Fact]
    public async Task Libtorrent_SeedsToAria2_ByteForByte()
    {
        if (!LibtorrentPeer.IsAvailable || !Aria2Peer.IsAvailable) Assert.Skip("python3-libtorrent or aria2 is not installed");
        var ct = TestContext.Current.CancellationToken;
        using var dir = new TempDirectory();
        var payload = TestPayload.MultiFileOddSizes(dir.CreateSubdirectory("seed"), seed: 2);
        var torrent = dir.Combine("t.torrent");
        await MkTorrent.CreateAsync(payload.ContentPath, torrent, [], 16, ct);
        var target = dir.CreateSubdirectory("leech");

        // aria2 cannot dial a given peer: it listens and the seeder dials it.
        await using var aria = Aria2Peer.StartDownload(torrent, target);
        await using var seeder = await LibtorrentPeer.StartAsync(new LibtorrentOptions
        { Seed = true, TorrentPath = torrent, SavePath = payload.Root, Peers = [aria.Endpoint] }, ct);
        var code = await aria.WaitForExitAsync(Bound, ct);

        Assert.True(code == 0, aria.Log);
        payload.AssertSameAs(target);
    }

    [Fact]
    public async Task Libtorrent_SeedsToTransmission_ByteForByte()
    {
        if (!LibtorrentPeer.IsAvailable || !TransmissionPeer.IsAvailable) Assert.Skip("python3-libtorrent or transmission-cli is not installed");
        var ct = TestContext.Current.CancellationToken;
        using var dir = new TempDirectory();
        var payload = TestPayload.MultiFileOddSizes(dir.CreateSubdirectory("seed"), seed: 3);
        var torrent = dir.Combine("t.torrent");
        await MkTorrent.CreateAsync(payload.ContentPath, torrent, [], 15, ct);
        var target = dir.CreateSubdirectory("leech");

        await using var transmission = TransmissionPeer.Start(torrent, target, dir.CreateSubdirectory("tr-config"));
        await using var seeder = await LibtorrentPeer.StartAsync(new LibtorrentOptions
        { Seed = true, TorrentPath = torrent, SavePath = payload.Root, Peers = [transmission.Endpoint] }, ct);
        await transmission.WaitForFinishedAsync(Bound, ct);

        payload.AssertSameAs(target);
    }
}
