using System.Buffers;
using System.Buffers.Binary;

namespace TorrentEdge.Engine.Protocol;

/// <summary>Outcome of reading one length-prefixed message.</summary>
public enum FrameStatus
{
    /// <summary>A whole message was read.</summary>
    Complete,
    /// <summary>More bytes are needed; nothing was consumed.</summary>
    Incomplete,
    /// <summary>The length prefix exceeds the limits: drop the peer (nothing was buffered for it).</summary>
    TooLarge,
    /// <summary>A known message with an impossible length or field: drop the peer.</summary>
    Malformed,
}

/// <summary>
/// Parses length-prefixed peer wire messages from a pipe buffer (Kestrel style). Lengths are checked against
/// <see cref="FrameLimits"/> as soon as the prefix and id are visible, before waiting for or copying a body.
/// </summary>
public static class PeerMessageReader
{
    /// <summary>
    /// Reads one message. On <see cref="FrameStatus.Complete"/>, <paramref name="consumed"/> is just past it and the
    /// message's payload is a slice of <paramref name="input"/>; otherwise <paramref name="consumed"/> is the start
    /// (advance the pipe with consumed = start, examined = end when incomplete).
    /// Unknown ids are returned as complete messages with <see cref="PeerMessage.IsKnown"/> false, to be ignored.
    /// </summary>
    public static FrameStatus TryRead(in ReadOnlySequence<byte> input, in FrameLimits limits, out PeerMessage message, out SequencePosition consumed)
    {
        message = default;
        consumed = input.Start;
        if (input.Length < 4) return FrameStatus.Incomplete;

        Span<byte> head = stackalloc byte[17];
        var headLength = (int)Math.Min(input.Length, head.Length);
        input.Slice(0, headLength).CopyTo(head);
        head = head[..headLength];

        var length = BinaryPrimitives.ReadUInt32BigEndian(head);
        if (length == 0)
        {
            message = PeerMessage.KeepAlive;
            consumed = input.GetPosition(4);
            return FrameStatus.Complete;
        }
        // Compared unsigned so a "negative" or 2 GiB prefix is refused here, before anything is buffered.
        if (length > (uint)limits.MaxMessageLength) return FrameStatus.TooLarge;
        if (head.Length < 5) return FrameStatus.Incomplete;

        var id = (MessageId)head[4];
        var status = CheckLength(id, (int)length, limits);
        if (status != FrameStatus.Complete) return status;
        if (input.Length < 4 + length) return FrameStatus.Incomplete;

        var body = input.Slice(5, length - 1);
        var fields = head[5..];
        switch (id)
        {
            case MessageId.Choke or MessageId.Unchoke or MessageId.Interested or MessageId.NotInterested
                or MessageId.HaveAll or MessageId.HaveNone:
                message = PeerMessage.Decoded(id, 0, 0, 0, 0, 0, default);
                break;
            case MessageId.Have or MessageId.Suggest or MessageId.AllowedFast:
            {
                var index = BinaryPrimitives.ReadInt32BigEndian(fields);
                if (index < 0) return FrameStatus.Malformed;
                message = PeerMessage.Decoded(id, index, 0, 0, 0, 0, default);
                break;
            }
            case MessageId.Request or MessageId.Cancel or MessageId.RejectRequest:
            {
                var index = BinaryPrimitives.ReadInt32BigEndian(fields);
                var begin = BinaryPrimitives.ReadInt32BigEndian(fields[4..]);
                var blockLength = BinaryPrimitives.ReadInt32BigEndian(fields[8..]);
                if (index < 0 || begin < 0 || blockLength <= 0) return FrameStatus.Malformed;
                message = PeerMessage.Decoded(id, index, begin, blockLength, 0, 0, default);
                break;
            }
            case MessageId.Port:
                message = PeerMessage.Decoded(id, 0, 0, 0, BinaryPrimitives.ReadUInt16BigEndian(fields), 0, default);
                break;
            case MessageId.Piece:
            {
                var index = BinaryPrimitives.ReadInt32BigEndian(fields);
                var begin = BinaryPrimitives.ReadInt32BigEndian(fields[4..]);
                if (index < 0 || begin < 0) return FrameStatus.Malformed;
                var block = body.Slice(8);
                message = PeerMessage.Decoded(id, index, begin, (int)block.Length, 0, 0, block);
                break;
            }
            case MessageId.Bitfield:
                message = PeerMessage.Decoded(id, 0, 0, 0, 0, 0, body);
                break;
            case MessageId.Extended:
                message = PeerMessage.Decoded(id, 0, 0, 0, 0, fields[0], body.Slice(1));
                break;
            default:
                // An unknown id 0xFF would read as KeepAlive, which callers ignore just the same.
                message = PeerMessage.Decoded(id, 0, 0, 0, 0, 0, body);
                break;
        }
        consumed = input.GetPosition(4 + length);
        return FrameStatus.Complete;
    }

    /// <summary>Reads one message from a <see cref="SequenceReader{T}"/>, advancing it past the message when complete.</summary>
    public static FrameStatus TryRead(ref SequenceReader<byte> reader, in FrameLimits limits, out PeerMessage message)
    {
        var rest = reader.UnreadSequence;
        var status = TryRead(rest, limits, out message, out var consumed);
        if (status == FrameStatus.Complete) reader.Advance(rest.Slice(0, consumed).Length);
        return status;
    }

    private static FrameStatus CheckLength(MessageId id, int length, in FrameLimits limits) => id switch
    {
        MessageId.Choke or MessageId.Unchoke or MessageId.Interested or MessageId.NotInterested
            or MessageId.HaveAll or MessageId.HaveNone => Exactly(length, 1),
        MessageId.Have or MessageId.Suggest or MessageId.AllowedFast => Exactly(length, 5),
        MessageId.Request or MessageId.Cancel or MessageId.RejectRequest => Exactly(length, 13),
        MessageId.Port => Exactly(length, 3),
        MessageId.Piece => Between(length, 9, 9 + limits.MaxBlockLength),
        MessageId.Bitfield => Between(length, 1, 1 + limits.MaxBitfieldLength),
        MessageId.Extended => Between(length, 2, 2 + limits.MaxExtendedLength),
        // Unknown ids (future extensions) are skipped by the caller; the overall limit already applied.
        _ => FrameStatus.Complete,
    };

    private static FrameStatus Exactly(int length, int expected) => length == expected ? FrameStatus.Complete : FrameStatus.Malformed;

    private static FrameStatus Between(int length, int min, int max) =>
        length < min ? FrameStatus.Malformed : length > max ? FrameStatus.TooLarge : FrameStatus.Complete;
}
