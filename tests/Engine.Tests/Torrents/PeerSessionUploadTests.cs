using System.Buffers.Binary;
using CsCheck;
using TorrentEdge.Engine.Creation;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Protocol;
using TorrentEdge.Engine.Tests.TestSupport;
using TorrentEdge.Engine.Torrents;

namespace TorrentEdge.Engine.Tests.Torrents;

/// <summary>
/// Our seeder's block-serving path (request validation on the loop, the session's upload queue and task, storage
/// reads across files) against a reference reader: the files concatenated and sliced.
/// </summary>
public sealed class PeerSessionUploadTests() : TempFolderTest("te-upload-")
{
    /// <summary>A torrent's file sizes (zero-length files among them), its piece length, raw request seeds and a pipeline depth.</summary>
    public sealed record UploadCase(int[] FileSizes, int PieceLength, (uint Piece, uint Begin, uint Length)[] Requests, int Depth)
    {
        public override string ToString() =>
            $"files [{string.Join(", ", FileSizes)}], piece {PieceLength}, {Requests.Length} requests, depth {Depth}";
    }

    // Depths reach past the 256 requests the upload queue once held: rtorrent keeps about 400 outstanding from a fast seeder.
    private static readonly Gen<UploadCase> Cases =
        from sizes in Gen.Frequency((1, Gen.Const(0)), (1, Gen.Int[1, 40]), (4, Gen.Int[1, 90_000])).Array[1, 9]
        where sizes.Sum() > 0
        from pieceShift in Gen.Int[14, 16]
        from requests in Gen.Select(Gen.UInt, Gen.UInt, Gen.UInt).Array[1, 900]
        from depth in Gen.Int[1, 900]
        select new UploadCase(sizes, 1 << pieceShift, requests, depth);

    [Fact]
    public async Task Upload_AnyValidRequestsInAnyOrderAtAnyDepth_ServesTheReferenceBytes()
    {
        var ct = TestContext.Current.CancellationToken;
        var run = 0;
        await Cases.SampleAsync(c => ServeAndCompareAsync(c, Interlocked.Increment(ref run), ct), iter: 60, threads: 1);
    }

    [Fact]
    public async Task Upload_RtorrentLikePipelineOf400AcrossFileBoundaries_AnswersEveryRequest()
    {
        // The case rtorrent 0.9.8 hit (no Fast extension, about 400 requests outstanding): requests past 256 were
        // dropped without a word, so its download stalled with pieces missing.
        var ct = TestContext.Current.CancellationToken;
        var sizes = new[] { 100_003, 0, 77_777, 5, 0, 123_457, 262_145, 31 };
        var pieceLength = 32 * 1024;
        var pieces = (sizes.Sum() + pieceLength - 1) / pieceLength;
        var requests = new List<(uint, uint, uint)>();
        // Every standard aligned block (see ToRequest), fetched twelve times over: 432 requests.
        for (var round = 0; round < 12; round++)
            for (var p = 0; p < pieces; p++)
                for (var b = 0; b < pieceLength / BlockRequest.StandardBlockLength; b++)
                    requests.Add(((uint)p, (uint)b, uint.MaxValue));
        await ServeAndCompareAsync(new UploadCase(sizes, pieceLength, [.. requests], Depth: 400), 0, ct);
    }

    [Fact]
    public async Task Upload_PeerWithoutFastExtensionOverrunsTheQueue_ChokedThenUnchokedToAskAgain()
    {
        // Without BEP 6 there is no reject: a silently dropped request is waited for until the peer gives up on us.
        var ct = TestContext.Current.CancellationToken;
        var (meta, _) = await EngineTestKit.SingleFileAsync(Path.Combine(Root, "seed", "f.bin"), 64 * 1024, 3, ct);
        await using var engine = EngineTestKit.NewEngine();
        // A trickle of upload, so the queue fills faster than it drains.
        var t = await engine.AddAsync(meta, new AddTorrentOptions { SavePath = Path.Combine(Root, "seed"), UploadRateLimit = 16 * 1024 }, ct);
        await EngineTestKit.WaitForAsync(t, s => s.State == TorrentState.Seeding, ct);
        await using var leecher = await ScriptedPeer.ConnectAsync(t, meta.InfoHash, ReservedBits.None, ct);
        await leecher.SendAsync(PeerMessage.Interested, ct);
        await leecher.ReadUntilAsync(m => m.Id == MessageId.Unchoke, ct);

        for (var i = 0; i < PeerSession.MaxQueuedUploads + 50; i++)
            await leecher.SendAsync(PeerMessage.Request(new BlockRequest(i % 4, 0, BlockRequest.StandardBlockLength)), ct);

        using var bound = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bound.CancelAfter(TimeSpan.FromSeconds(10));
        await leecher.ReadUntilAsync(m => m.Id == MessageId.Choke, bound.Token);
        await leecher.ReadUntilAsync(m => m.Id == MessageId.Unchoke, bound.Token);
    }

    /// <summary>Seeds the case's files, pipelines its requests at its depth from a peer without the Fast extension, and checks every answer.</summary>
    private async Task ServeAndCompareAsync(UploadCase c, int run, CancellationToken ct)
    {
        var saveDir = Path.Combine(Root, "case" + run);
        var content = Path.Combine(saveDir, "content");
        var random = new Random(run);
        for (var i = 0; i < c.FileSizes.Length; i++)
        {
            var path = Path.Combine(content, $"d{i % 3}", $"f{i:00}.bin");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var bytes = new byte[c.FileSizes[i]];
            random.NextBytes(bytes);
            await File.WriteAllBytesAsync(path, bytes, ct);
        }
        var meta = TorrentMetainfo.Parse(await TorrentCreator.CreateAsync(content, new TorrentCreatorOptions { PieceLength = c.PieceLength }, ct));
        // The reference reader: the files in the torrent's order, end to end.
        var reference = meta.Files.SelectMany(f => File.ReadAllBytes(Path.Combine(saveDir, f.Path))).ToArray();
        Assert.Equal(meta.TotalLength, reference.Length);
        var requests = c.Requests.Select(r => ToRequest(r, meta)).ToArray();

        await using var engine = EngineTestKit.NewEngine();
        var t = await engine.AddAsync(meta, new AddTorrentOptions { SavePath = saveDir }, ct);
        await EngineTestKit.WaitForAsync(t, s => s.State == TorrentState.Seeding, ct);
        // rtorrent announces no Fast extension, so a request we drop is never rejected: it waits for it forever.
        await using var leecher = await ScriptedPeer.ConnectAsync(t, meta.InfoHash, ReservedBits.None, ct);
        await leecher.SendAsync(PeerMessage.Interested, ct);
        await leecher.ReadUntilAsync(m => m.Id == MessageId.Unchoke, ct);

        // Answers are matched by (piece, begin, length): the protocol does not promise the order.
        var expected = new Dictionary<BlockRequest, int>();
        var sent = 0;
        var answered = 0;
        // A stall shows as silence: each answer must come within a few seconds of the one before.
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bound.CancelAfter(TimeSpan.FromSeconds(3));
        async Task SendUpToAsync(int count)
        {
            for (; sent < Math.Min(count, requests.Length); sent++)
            {
                var r = requests[sent];
                expected[r] = expected.GetValueOrDefault(r) + 1;
                await leecher.SendAsync(PeerMessage.Request(r), bound.Token);
            }
        }
        try
        {
            await SendUpToAsync(c.Depth);
            while (answered < requests.Length)
            {
                var m = await leecher.ReadAsync(bound.Token);
                Assert.NotEqual(MessageId.Choke, m.Id);
                if (m.Id != MessageId.Piece) continue;
                var index = BinaryPrimitives.ReadInt32BigEndian(m.Body);
                var begin = BinaryPrimitives.ReadInt32BigEndian(m.Body.AsSpan(4));
                var block = m.Body.AsSpan(8);
                var key = new BlockRequest(index, begin, block.Length);
                Assert.True(expected.GetValueOrDefault(key) > 0, $"{c}: unrequested or repeated answer {key}");
                expected[key]--;
                var at = (int)((long)index * meta.PieceLength + begin);
                Assert.True(block.SequenceEqual(reference.AsSpan(at, block.Length)), $"{c}: wrong bytes for {key}");
                answered++;
                bound.CancelAfter(TimeSpan.FromSeconds(3));
                // A sliding window: one more request per answer keeps Depth outstanding.
                await SendUpToAsync(answered + c.Depth);
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            Assert.Fail($"{c}: {answered} of {requests.Length} requests answered before the seeder fell silent ({sent} sent)");
        }
        Assert.Equal(requests.Length, answered);
    }

    /// <summary>
    /// A valid request from three raw numbers: a piece, then either a standard aligned block (when the length seed
    /// has its top bit set) or any begin and length inside the piece, at most 16 KiB.
    /// </summary>
    private static BlockRequest ToRequest((uint Piece, uint Begin, uint Length) r, TorrentMetainfo meta)
    {
        var piece = (int)(r.Piece % (uint)meta.PieceCount);
        var pieceLength = meta.GetPieceLength(piece);
        if ((r.Length & 0x8000_0000) != 0)
        {
            var blocks = (pieceLength + BlockRequest.StandardBlockLength - 1) / BlockRequest.StandardBlockLength;
            var aligned = (int)(r.Begin % (uint)blocks) * BlockRequest.StandardBlockLength;
            return new BlockRequest(piece, aligned, Math.Min(BlockRequest.StandardBlockLength, pieceLength - aligned));
        }
        var begin = (int)(r.Begin % (uint)pieceLength);
        var length = 1 + (int)(r.Length % (uint)Math.Min(BlockRequest.StandardBlockLength, pieceLength - begin));
        return new BlockRequest(piece, begin, length);
    }
}
