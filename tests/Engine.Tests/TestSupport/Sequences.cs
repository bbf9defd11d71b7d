using System.Buffers;

namespace TorrentEdge.Engine.Tests.TestSupport;

/// <summary>Builds multi-segment sequences, as a pipe hands them out when bytes arrive in pieces.</summary>
internal static class Sequences
{
    public static ReadOnlySequence<byte> Create(params byte[][] segments)
    {
        if (segments.Length == 0) return ReadOnlySequence<byte>.Empty;
        var first = new Segment(segments[0], 0);
        var last = first;
        foreach (var s in segments.Skip(1)) last = last.Append(s);
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// <summary>Splits <paramref name="bytes"/> at the given cut points into separate segments.</summary>
    public static ReadOnlySequence<byte> Split(byte[] bytes, params int[] cuts)
    {
        var parts = new List<byte[]>();
        var start = 0;
        foreach (var cut in cuts.Order())
        {
            parts.Add(bytes[start..cut]);
            start = cut;
        }
        parts.Add(bytes[start..]);
        return Create([.. parts]);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
