using TorrentEdge.Engine.Encryption;
using System.Net;
using System.Text;
using TorrentEdge.Engine.Creation;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Protocol;
using TorrentEdge.Engine.Tests.TestSupport;
using TorrentEdge.Engine.Torrents;

namespace TorrentEdge.Engine.Tests.Torrents;

/// <summary>What a status page learns of each peer, and the piece map, from two engines over loopback TCP.</summary>
public sealed class PeerInfoTests() : TempFolderTest("te-peerinfo-")
{
    [Fact]
    public async Task PeerInfos_LeecherDialsNamedSeeder_BothSidesSayHowTheyMetAndWhoTheOtherIs()
    {
        var ct = TestContext.Current.CancellationToken;
        var content = Path.Combine(Root, "seed", "content");
        Directory.CreateDirectory(content);
        var bytes = new byte[200_003];
        new Random(7).NextBytes(bytes);
        await File.WriteAllBytesAsync(Path.Combine(content, "data.bin"), bytes, ct);
        var meta = TorrentMetainfo.Parse(await TorrentCreator.CreateAsync(content, new TorrentCreatorOptions { PieceLength = 16 * 1024 }, ct));
        // Slow enough (about 5 s) that both sides are connected for a few ticks.
        // Both require encryption, so the peer lists must say the connection is encrypted (MSE).
        await using var seeder = EngineTestKit.NewEngine(o => o with { UploadRateLimit = 40_000, Encryption = EncryptionPolicy.Require });
        await using var leecher = EngineTestKit.NewEngine(o => o with { Encryption = EncryptionPolicy.Require });
        var s = await seeder.AddAsync(meta, new AddTorrentOptions { SavePath = Path.Combine(Root, "seed") }, ct);
        await EngineTestKit.WaitForAsync(s, x => x.State == TorrentState.Seeding, ct);

        var t = await leecher.AddAsync(meta, new AddTorrentOptions { SavePath = Path.Combine(Root, "leech"), Peers = [seeder.ListenEndPoint!] }, ct);
        PeerInfo? seen = null, seenBySeeder = null;
        byte[]? partialMap = null;
        for (var i = 0; i < 200 && (seen is null || seenBySeeder is null || partialMap is null); i++)
        {
            seen ??= t.PeerInfos.FirstOrDefault(p => p.DownloadRate > 0);
            seenBySeeder ??= s.PeerInfos.FirstOrDefault();
            if (t.PieceBitfield is { } bits && t.Status.PiecesHave is > 0 && t.Status.PiecesHave < meta.PieceCount) partialMap ??= bits;
            await Task.Delay(50, ct);
        }

        Assert.NotNull(seen);
        Assert.Equal((seeder.ListenEndPoint, PeerSource.Manual, false, true), (seen.EndPoint, seen.Source, seen.Incoming, seen.Encrypted));
        Assert.StartsWith("TorrentEdge", seen.Client);
        Assert.Equal(1.0, seen.Progress);
        Assert.NotNull(seenBySeeder);
        Assert.Equal((PeerSource.Incoming, true, true), (seenBySeeder.Source, seenBySeeder.Incoming, seenBySeeder.Encrypted));
        Assert.NotNull(partialMap);
        Assert.Contains(partialMap, b => b != 0);

        await EngineTestKit.WaitForAsync(t, x => x.State == TorrentState.Seeding, ct);
        for (var i = 0; i < 60 && CountSet(t.PieceBitfield) < meta.PieceCount; i++) await Task.Delay(50, ct);
        Assert.Equal(meta.PieceCount, CountSet(t.PieceBitfield));
    }

    private static int CountSet(byte[]? bits) => bits?.Sum(b => System.Numerics.BitOperations.PopCount(b)) ?? 0;

    [Theory]
    [InlineData("-qB4650-abcdefghijkl", null, "qBittorrent 4650")]
    [InlineData("-lt2080-abcdefghijkl", null, "libtorrent 2080")]
    [InlineData("-ZZ0001-abcdefghijkl", null, "ZZ 0001")]
    [InlineData("M7-4-0--abcdefghijkl", null, "unknown")]
    [InlineData("-qB4650-abcdefghijkl", "qBittorrent/4.6.5", "qBittorrent/4.6.5")]
    [InlineData("-qB4650-abcdefghijkl", "evil\u0007\nname", "evilname")]
    public void Describe_PeerIdAndExtensionVersion_ReadableClient(string peerId, string? version, string expected)
    {
        Assert.Equal(expected, PeerClients.Describe(PeerId.FromBytes(Encoding.ASCII.GetBytes(peerId)), version));
    }
}
