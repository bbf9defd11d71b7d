using TorrentEdge.Engine.Creation;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Tests.TestSupport;

namespace TorrentEdge.Engine.Tests.Metainfo;

/// <summary>BEP 27: what the DHT, PEX and LSD code will ask before touching a torrent.</summary>
public sealed class PeerSourcePolicyTests() : TempFolderTest("te-bep27-")
{
    private async Task<TorrentMetainfo> CreateAsync(bool isPrivate)
    {
        var path = Path.Combine(Root, isPrivate ? "private.bin" : "public.bin");
        await File.WriteAllBytesAsync(path, new byte[40_000], TestContext.Current.CancellationToken);
        return TorrentMetainfo.Parse(await TorrentCreator.CreateAsync(path,
            new TorrentCreatorOptions { IsPrivate = isPrivate, AnnounceTiers = [["http://127.0.0.1:1/announce"]] }, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Allows_PrivateTorrent_OnlyTrackersAndDirectPeers()
    {
        var meta = await CreateAsync(isPrivate: true);
        Assert.True(meta.IsPrivate);
        Assert.Equal(PeerSources.Tracker | PeerSources.Direct, meta.AllowedPeerSources);
        Assert.False(PeerSourcePolicy.Allows(meta, PeerSources.Dht));
        Assert.False(PeerSourcePolicy.Allows(meta, PeerSources.Pex));
        Assert.False(PeerSourcePolicy.Allows(meta, PeerSources.LocalDiscovery));
        Assert.False(PeerSourcePolicy.Allows(meta, PeerSources.Tracker | PeerSources.Dht));
        Assert.True(PeerSourcePolicy.Allows(meta, PeerSources.Tracker));
    }

    [Fact]
    public async Task Allows_PublicTorrentOrUnknownMetadata_EverySource()
    {
        var meta = await CreateAsync(isPrivate: false);
        Assert.Equal(PeerSources.All, meta.AllowedPeerSources);
        Assert.True(PeerSourcePolicy.Allows(meta, PeerSources.Dht | PeerSources.Pex | PeerSources.LocalDiscovery));
        // A magnet before its metadata arrives is not known to be private: the DHT is how it finds the metadata.
        Assert.True(PeerSourcePolicy.Allows(null, PeerSources.Dht));
    }

    // private=0 (or any value but 1) is a public torrent.
    [Fact]
    public void Allows_PrivateZero_IsPublic()
    {
        var info = "d6:lengthi16384e4:name1:a12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaa7:privatei0ee"u8.ToArray();
        var torrent = (byte[])[.. "d4:info"u8, .. info, .. "e"u8];
        var meta = TorrentMetainfo.Parse(torrent);
        Assert.False(meta.IsPrivate);
        Assert.True(PeerSourcePolicy.Allows(meta, PeerSources.Dht));
    }
}
