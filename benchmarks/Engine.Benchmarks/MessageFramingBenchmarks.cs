using System.Buffers;
using BenchmarkDotNet.Attributes;
using TorrentEdge.Engine.Protocol;

namespace TorrentEdge.Engine.Benchmarks;

/// <summary>
/// Framing and parsing a receive buffer of peer wire messages the way a download sees them: 16 KiB piece
/// messages interleaved with have and request messages, split over 64 KiB segments like a pipe's buffers.
/// </summary>
[MemoryDiagnoser]
public class MessageFramingBenchmarks
{
    private const int Pieces = 64;
    private ReadOnlySequence<byte> _contiguous;
    private ReadOnlySequence<byte> _segmented;
    private readonly FrameLimits _limits = FrameLimits.Default.ForPieceCount(100_000);
    private byte[] _encodeBuffer = [];
    private byte[] _block = [];

    [GlobalSetup]
    public void Setup()
    {
        _block = new byte[BlockRequest.StandardBlockLength];
        new Random(1).NextBytes(_block);
        var writer = new ArrayBufferWriter<byte>();
        for (var i = 0; i < Pieces; i++)
        {
            PeerMessage.Piece(i, 0, _block).WriteTo(writer);
            PeerMessage.Have(i).WriteTo(writer);
            PeerMessage.Request(new BlockRequest(i + 1, 0, BlockRequest.StandardBlockLength)).WriteTo(writer);
        }
        var bytes = writer.WrittenMemory.ToArray();
        _contiguous = new ReadOnlySequence<byte>(bytes);
        _segmented = Segments.Split(bytes, 64 * 1024);
        _encodeBuffer = new byte[bytes.Length];
    }

    /// <summary>Messages framed and parsed from one contiguous buffer (bytes per op: 64 × (16 KiB piece + have + request)).</summary>
    [Benchmark]
    public long ParseContiguous() => ParseAll(_contiguous);

    /// <summary>The same bytes split over 64 KiB segments, so some messages straddle two segments.</summary>
    [Benchmark]
    public long ParseSegmented() => ParseAll(_segmented);

    /// <summary>Encoding the same message sequence into a span (headers plus block copies).</summary>
    [Benchmark]
    public int Encode()
    {
        var span = _encodeBuffer.AsSpan();
        var n = 0;
        for (var i = 0; i < Pieces; i++)
        {
            n += PeerMessage.Piece(i, 0, _block).Encode(span[n..]);
            n += PeerMessage.Have(i).Encode(span[n..]);
            n += PeerMessage.Request(new BlockRequest(i + 1, 0, BlockRequest.StandardBlockLength)).Encode(span[n..]);
        }
        return n;
    }

    private long ParseAll(ReadOnlySequence<byte> input)
    {
        long sum = 0;
        while (PeerMessageReader.TryRead(input, _limits, out var message, out var consumed) == FrameStatus.Complete)
        {
            sum += message.Index + message.Length;
            input = input.Slice(consumed);
        }
        return sum;
    }
}

/// <summary>Builds a multi-segment <see cref="ReadOnlySequence{T}"/> (as a pipe hands out).</summary>
internal sealed class Segments : ReadOnlySequenceSegment<byte>
{
    private Segments(ReadOnlyMemory<byte> memory, long runningIndex)
    {
        Memory = memory;
        RunningIndex = runningIndex;
    }

    public static ReadOnlySequence<byte> Split(byte[] bytes, int segmentLength)
    {
        var first = new Segments(bytes.AsMemory(0, Math.Min(segmentLength, bytes.Length)), 0);
        var last = first;
        for (var offset = segmentLength; offset < bytes.Length; offset += segmentLength)
        {
            var next = new Segments(bytes.AsMemory(offset, Math.Min(segmentLength, bytes.Length - offset)), offset);
            last.Next = next;
            last = next;
        }
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }
}
