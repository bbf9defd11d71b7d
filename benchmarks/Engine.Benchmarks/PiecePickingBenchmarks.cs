using BenchmarkDotNet.Attributes;
using TorrentEdge.Engine.Common;
using TorrentEdge.Engine.PiecePicking;
using TorrentEdge.Engine.Protocol;

namespace TorrentEdge.Engine.Benchmarks;

/// <summary>
/// The piece picker on a torrent of 100,000 pieces (16 KiB blocks, 256 KiB pieces: 25 GiB): picking requests for
/// a peer, and the block bookkeeping of a whole piece (pick, receive every block, verify).
/// </summary>
[MemoryDiagnoser]
public class PiecePickingBenchmarks
{
    private const int PieceCount = 100_000;
    private const int PieceLength = 256 * 1024;
    private readonly BlockRequest[] _requests = new BlockRequest[64];
    private readonly PeerBlockRequest[] _cancellations = new PeerBlockRequest[4];
    private PiecePicker _picker = null!;
    private Peer[] _peers = [];
    private int _next;
    private Peer _seed = null!;

    /// <summary>Rarest-first (the default chain) or first-available.</summary>
    [Params(true, false)]
    public bool RarestFirst { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(7);
        _picker = new PiecePicker((long)PieceCount * PieceLength, PieceLength,
            PiecePickerSettings.Default with { RarestFirst = RarestFirst }, random: new Random(7));
        // 50 peers with about 60% of the pieces each, so availability differs from piece to piece.
        _peers = new Peer[50];
        for (var p = 0; p < _peers.Length; p++)
        {
            var bits = new BitField(PieceCount);
            for (var i = 0; i < PieceCount; i++)
                if (random.NextDouble() < 0.6) bits[i] = true;
            _peers[p] = new Peer(bits);
            _picker.Availability.AddPeer(bits);
        }
        var all = new BitField(PieceCount);
        all.SetAll(true);
        _seed = new Peer(all);
    }

    /// <summary>One peer asks for 64 blocks (4 new pieces), then gives them back (so each op starts from the same state).</summary>
    [Benchmark]
    public int PickAndReturn64Blocks()
    {
        var peer = _peers[_next++ % _peers.Length];
        var n = _picker.PickBlocks(peer, _requests);
        for (var i = 0; i < n; i++) _picker.ReturnBlock(peer, _requests[i]);
        return n;
    }

    /// <summary>
    /// A whole piece's block bookkeeping: pick its 16 blocks for one peer and record each one received, then
    /// release it as a failed hash check. (PieceVerified retires a piece for good, so a benchmark repeated
    /// millions of times would run out of pieces; the failure path frees the same structures.)
    /// </summary>
    [Benchmark]
    public int PieceLifecycle()
    {
        var peer = _peers[_next++ % _peers.Length];
        var n = _picker.PickBlocks(peer, _requests.AsSpan(0, 16));
        var completed = 0;
        for (var i = 0; i < n; i++)
        {
            if (_picker.BlockReceived(peer, _requests[i], _cancellations, out _) != BlockOutcome.PieceComplete) continue;
            _picker.PieceFailed(_requests[i].PieceIndex);
            completed++;
        }
        return completed;
    }

    /// <summary>Every piece of a fresh 100,000-piece torrent picked, received and verified by one peer (per piece).</summary>
    [Benchmark(OperationsPerInvoke = PieceCount)]
    public int DownloadWholeTorrentPerPiece()
    {
        var picker = new PiecePicker((long)PieceCount * PieceLength, PieceLength,
            PiecePickerSettings.Default with { RarestFirst = RarestFirst }, random: new Random(7));
        picker.Availability.AddSeed();
        var completed = 0;
        Span<BlockRequest> requests = stackalloc BlockRequest[16];
        while (true)
        {
            var n = picker.PickBlocks(_seed, requests);
            if (n == 0) break;
            for (var i = 0; i < n; i++)
            {
                if (picker.BlockReceived(_seed, requests[i], _cancellations, out _) != BlockOutcome.PieceComplete) continue;
                picker.PieceVerified(requests[i].PieceIndex);
                completed++;
            }
        }
        return completed;
    }

    private sealed class Peer(BitField pieces) : IPieceRequester
    {
        public BitField Pieces { get; } = pieces;
        public bool IsChokingUs => false;
        public ReadOnlySpan<int> AllowedFast => [];
        public bool IsSnubbed => false;
    }
}
