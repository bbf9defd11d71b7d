using System.Text.Json;
using TorrentEdge.Contracts.Live;
using TorrentEdge.Notifier.Live;

namespace TorrentEdge.Notifier.Tests.Live;

public sealed class OutboundBufferTests
{
    private const string A = "0123456789abcdef0123456789abcdef01234567";
    private const string B = "89abcdef0123456789abcdef0123456789abcdef";

    private static LiveMessage Progress(string hash, double percentage) => LiveMessage.Create(LiveEventNames.Progress, hash, ["alice"],
        new TorrentProgressPayload(hash, "x", percentage, 0, 0, new PeerCounts(0, 0), "Downloading", 0, 0, 0, 0, null), coalesces: true);

    private static LiveMessage Piece(int index) => LiveMessage.Create(LiveEventNames.Piece, A, ["alice"],
        new TorrentPiecePayload(A, index, index + 1, 100), subscribersOnly: true, coalesces: true);

    private static LiveMessage Complete(string hash) => LiveMessage.Create(LiveEventNames.Complete, hash, ["alice"], new TorrentCompletePayload(hash, "x", 1));

    private static List<LiveMessage> DrainAll(OutboundBuffer buffer)
    {
        var all = new List<LiveMessage>();
        buffer.Drain(all, int.MaxValue);
        return all;
    }

    [Fact]
    public void TryEnqueue_ProgressOfATorrentStillWaiting_ReplacedByTheNewest()
    {
        var buffer = new OutboundBuffer(4);

        Assert.True(buffer.TryEnqueue(Progress(A, 10)));
        Assert.True(buffer.TryEnqueue(Progress(B, 10)));
        Assert.True(buffer.TryEnqueue(Progress(A, 20)));
        Assert.True(buffer.TryEnqueue(Progress(A, 30)));

        var sent = DrainAll(buffer);
        Assert.Equal([(A, 30.0), (B, 10.0)], sent.Select(m => (m.InfoHash, m.Payload.GetProperty("percentage").GetDouble())));
        Assert.Equal(2, buffer.Coalesced);
    }

    [Fact]
    public void TryEnqueue_FullOfEventsThatCannotCoalesce_RefusesButStillTakesProgress()
    {
        var buffer = new OutboundBuffer(2);
        Assert.True(buffer.TryEnqueue(Progress(A, 10)));
        Assert.True(buffer.TryEnqueue(Complete(A)));

        Assert.False(buffer.TryEnqueue(Complete(B)));
        Assert.True(buffer.TryEnqueue(Progress(A, 50)));
        Assert.Equal(2, buffer.Count);
    }

    [Fact]
    public void TryEnqueue_PiecesWhileKeepingUp_OneEventEach()
    {
        var buffer = new OutboundBuffer(1024);

        for (var i = 0; i < 10; i++)
        {
            buffer.TryEnqueue(Piece(i));
        }

        Assert.Equal(Enumerable.Range(0, 10), DrainAll(buffer).Select(m => m.Payload.GetProperty("index").GetInt32()));
    }

    [Fact]
    public void TryEnqueue_PiecesWhileLagging_MergedWithEveryIndexKept()
    {
        var buffer = new OutboundBuffer(32);
        for (var i = 0; i < buffer.LagThreshold + 50; i++)
        {
            Assert.True(buffer.TryEnqueue(Piece(i)));
        }

        var sent = DrainAll(buffer);

        // One event per piece up to the lag threshold, then one that stands for the rest.
        Assert.Equal(buffer.LagThreshold, sent.Count);
        var last = sent[^1].Payload;
        Assert.Equal(buffer.LagThreshold + 49, last.GetProperty("index").GetInt32());
        var indices = sent.SelectMany(m => m.Payload.TryGetProperty("pieces", out var p)
            ? p.EnumerateArray().Select(x => x.GetInt32()) : [m.Payload.GetProperty("index").GetInt32()]);
        Assert.Equal(Enumerable.Range(0, buffer.LagThreshold + 50), indices);
    }

    [Fact]
    public void SocketIoFrame_IsTheEventAsSocketIoSendsIt()
    {
        var frame = System.Text.Encoding.UTF8.GetString(Complete(A).SocketIoFrame.Span);

        Assert.StartsWith("42[\"torrent:complete\",{", frame, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(frame[2..]);
        Assert.Equal(A, doc.RootElement[1].GetProperty("infoHash").GetString());
    }
}
