using System.Reflection;
using System.Text;
using System.Text.Json;
using TorrentEdge.Contracts.Torrents;
using TorrentEdge.ServiceDefaults.Messaging;

namespace TorrentEdge.ServiceDefaults.Tests.Messaging;

public sealed class IntegrationEventJsonTests
{
    private static TorrentProgressed Busy(long? eta, byte[]? bitfield, bool peers) => new(
        "0123456789abcdef0123456789abcdef01234567", ["alice", "bob"], TorrentState.Downloading, 0.25, 250, 1000, 260, 30, 40, 5,
        3, 9, eta,
        [new FileProgress("dir/a \"quoted\" ü.bin", 600, 100, FilePriority.High), new FileProgress("b.bin", 400, 150, FilePriority.Skip)],
        [new TrackerStatus("udp://t.example:1337/announce", "Working", 10, 2, null), new TrackerStatus("http://x/announce", "Failing", 0, 0, "timed out")])
    {
        Name = "Some name",
        Sequence = 42,
        Peers = peers ? [new PeerStatus("10.0.0.1:6881", "qB 4.6", "pex", true, false, 0.5, 1, 2, 3, 4, true, false)] : null,
        PieceBitfield = bitfield,
        PieceCount = bitfield is null ? 0 : 12,
    };

    [Theory]
    [InlineData(typeof(TorrentProgressed))]
    [InlineData(typeof(PeerStatus))]
    [InlineData(typeof(TrackerStatus))]
    public void ManyParameterContracts_DeserializedThroughTheirJsonConstructorWithoutParameters(Type type)
    {
        // The cheaper path of System.Text.Json (init setters instead of a boxed argument array) stays in use.
        var info = IntegrationEventJson.Options.GetTypeInfo(type);

        var constructor = Assert.IsAssignableFrom<ConstructorInfo>(info.ConstructorAttributeProvider);
        Assert.Empty(constructor.GetParameters());
    }

    [Theory]
    [InlineData(116L, new byte[] { 0xff, 0x0f }, true)]
    [InlineData(null, null, false)]
    [InlineData(0L, new byte[0], true)]
    public void BusyProgress_RoundTrip_SameJsonAndNullsStayNull(long? eta, byte[]? bitfield, bool peers)
    {
        var json = IntegrationEventJson.SerializeToUtf8Bytes(Busy(eta, bitfield, peers));

        var read = Assert.IsType<TorrentProgressed>(JsonSerializer.Deserialize(json, typeof(TorrentProgressed), IntegrationEventJson.Options));

        Assert.Equal(Encoding.UTF8.GetString(json), Encoding.UTF8.GetString(IntegrationEventJson.SerializeToUtf8Bytes(read)));
        Assert.Equal(eta, read.EtaSeconds);
        Assert.Equal(bitfield, read.PieceBitfield);
        Assert.Equal(peers, read.Peers is not null);
        Assert.Equal("dir/a \"quoted\" ü.bin", read.Files[0].Path);
        Assert.Null(read.Trackers[0].LastError);
        Assert.Equal("timed out", read.Trackers[1].LastError);
    }

    [Fact]
    public void Progress_MissingCaseVariantAndQuotedNumberProperties_ReadAsBefore()
    {
        // What the constructor path gave: names in any case, numbers in strings (web defaults), defaults for what is missing.
        const string json = """{"InfoHash":"abc","PROGRESS":"0.5","peersConnected":3,"unknown":{"x":[1,2]},"schemaVersion":1}""";

        var read = Assert.IsType<TorrentProgressed>(JsonSerializer.Deserialize(json, typeof(TorrentProgressed), IntegrationEventJson.Options));

        Assert.Equal("abc", read.InfoHash);
        Assert.Equal(0.5, read.Progress);
        Assert.Equal(3, read.PeersConnected);
        Assert.Null(read.Owners);
        Assert.Null(read.Files);
        Assert.Null(read.Trackers);
        Assert.Null(read.Name);
        Assert.Null(read.Peers);
        Assert.Null(read.PieceBitfield);
        Assert.Null(read.EtaSeconds);
        Assert.Equal(0, read.TotalBytes);
        Assert.Equal(default, read.State);
        Assert.Equal(1, read.SchemaVersion);
        Assert.NotEqual(Guid.Empty, read.Id);
    }

    [Fact]
    public void Progress_NullForANumber_StillRefused()
        => Assert.Throws<JsonException>(() => JsonSerializer.Deserialize("""{"infoHash":"abc","totalBytes":null}""", typeof(TorrentProgressed), IntegrationEventJson.Options));
}
