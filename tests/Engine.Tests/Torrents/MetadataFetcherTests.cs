using System.Security.Cryptography;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Protocol;
using TorrentEdge.Engine.Torrents;

namespace TorrentEdge.Engine.Tests.Torrents;

/// <summary>The metadata fetcher alone: sizes are claims until the info-hash checks out.</summary>
public sealed class MetadataFetcherTests
{
    private sealed class Source(string name, int size) : IMetadataSource
    {
        public byte RemoteUtMetadataId => 2;
        public int RemoteMetadataSize { get; } = size;
        public bool MetadataRequested { get; set; }
        public bool IsClosed { get; set; }
        public override string ToString() => name;
    }

    private static readonly byte[] Info = RandomNumberGenerator.GetBytes(40_000);
    private static readonly InfoHash Hash = new(SHA1.HashData(Info));

    private static MetadataMessage Piece(int piece, int totalSize, byte[] bytes) =>
        MetadataMessage.DataPiece(piece, totalSize, bytes.AsMemory(piece * MetadataMessage.PieceLength,
            Math.Min(MetadataMessage.PieceLength, bytes.Length - piece * MetadataMessage.PieceLength)));

    [Fact]
    public void NextRound_LiarAskedThenGone_HonestSizeFetchedAndVerified()
    {
        var fetcher = new MetadataFetcher<Source>(Hash);
        var missing = new List<int>();
        var liar = new Source("liar", 99_999);
        Assert.Same(liar, fetcher.NextRound([liar], tick: false, missing));
        Assert.Equal(99_999, fetcher.CurrentSize);

        // The liar leaves; an honest seeder arrives: its size replaces the liar's at the next round.
        liar.IsClosed = true;
        var honest = new Source("honest", Info.Length);
        Assert.Same(honest, fetcher.NextRound([liar, honest], tick: true, missing));
        Assert.Equal(Info.Length, fetcher.CurrentSize);
        Assert.Equal([0, 1, 2], missing);
        Assert.Equal(MetadataDataOutcome.Stored, fetcher.OnData(honest, Piece(0, Info.Length, Info)));
        Assert.Equal(MetadataDataOutcome.Stored, fetcher.OnData(honest, Piece(1, Info.Length, Info)));
        Assert.Equal(MetadataDataOutcome.Complete, fetcher.OnData(honest, Piece(2, Info.Length, Info)));
        Assert.True(fetcher.TakeCompleted(out var bytes, out _));
        Assert.Equal(Info, bytes);
    }

    [Fact]
    public void NextRound_SilentSizeWhileAnotherIsOffered_AbandonedAfterTwoIdleRounds()
    {
        var fetcher = new MetadataFetcher<Source>(Hash);
        var missing = new List<int>();
        var silentA = new Source("a", 50_000);
        var silentB = new Source("b", 50_000);
        var honest = new Source("honest", Info.Length);
        fetcher.NextRound([silentA, silentB, honest], tick: false, missing);
        Assert.Equal(50_000, fetcher.CurrentSize); // the majority's claim first
        fetcher.NextRound([silentA, silentB, honest], tick: true, missing);
        Assert.Equal(50_000, fetcher.CurrentSize);
        Assert.Same(honest, fetcher.NextRound([silentA, silentB, honest], tick: true, missing));
        Assert.Equal(Info.Length, fetcher.CurrentSize);
    }

    [Fact]
    public void TakeCompleted_WrongBytes_FailsNamingEveryContributor()
    {
        var fetcher = new MetadataFetcher<Source>(Hash);
        var missing = new List<int>();
        var a = new Source("a", Info.Length);
        var b = new Source("b", Info.Length);
        var forged = (byte[])Info.Clone();
        forged[^1] ^= 1;
        fetcher.NextRound([a, b], tick: false, missing);
        fetcher.NextRound([a, b], tick: false, missing);
        Assert.True(a.MetadataRequested && b.MetadataRequested);
        fetcher.OnData(a, Piece(0, Info.Length, Info));
        fetcher.OnData(b, Piece(1, Info.Length, Info));
        Assert.Equal(MetadataDataOutcome.Complete, fetcher.OnData(b, Piece(2, Info.Length, forged)));
        Assert.False(fetcher.TakeCompleted(out _, out var contributors));
        Assert.Equal(2, contributors.Length);
        Assert.Equal(0, fetcher.CurrentSize);
    }

    [Fact]
    public void OnData_TotalSizeNotWhatTheSenderAnnounced_ProtocolError()
    {
        var fetcher = new MetadataFetcher<Source>(Hash);
        var peer = new Source("p", Info.Length);
        fetcher.NextRound([peer], tick: false, []);
        Assert.Equal(MetadataDataOutcome.ProtocolError, fetcher.OnData(peer, Piece(0, Info.Length + 1, Info)));
    }
}
