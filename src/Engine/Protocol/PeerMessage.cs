using System.Buffers;
using System.Buffers.Binary;

namespace TorrentEdge.Engine.Protocol;

/// <summary>
/// One peer wire message, decoded or to be encoded. Fixed-size fields are held by value; a variable body
/// (bitfield bytes, a piece's block, an extended payload) is a slice of the receive buffer, valid only until
/// the reader advances past it, so nothing is copied or allocated per message.
/// </summary>
public readonly struct PeerMessage
{
    private PeerMessage(MessageId id, int index = 0, int begin = 0, int length = 0, ushort port = 0, byte extendedId = 0, ReadOnlySequence<byte> payload = default)
    {
        Id = id;
        Index = index;
        Begin = begin;
        Length = length;
        Port = port;
        ExtendedId = extendedId;
        Payload = payload;
    }

    /// <summary>The message kind; an id not in <see cref="MessageId"/> is kept as its raw value (<see cref="IsKnown"/> is false).</summary>
    public MessageId Id { get; }

    /// <summary>Piece index of have, suggest, allowed fast, request, cancel, reject and piece.</summary>
    public int Index { get; }

    /// <summary>Byte offset in the piece for request, cancel, reject and piece.</summary>
    public int Begin { get; }

    /// <summary>Block length of request, cancel and reject; payload length of piece.</summary>
    public int Length { get; }

    /// <summary>DHT port of a port message.</summary>
    public ushort Port { get; }

    /// <summary>Extended message id (0 is the extension handshake).</summary>
    public byte ExtendedId { get; }

    /// <summary>Bitfield bytes, piece block, extended body or the body of an unknown message.</summary>
    public ReadOnlySequence<byte> Payload { get; }

    public BlockRequest Block => new(Index, Begin, Length);

    public bool IsKnown => Id switch
    {
        <= MessageId.Port => true,
        >= MessageId.Suggest and <= MessageId.AllowedFast => true,
        MessageId.Extended or MessageId.KeepAlive => true,
        _ => false,
    };

    /// <summary>Whether this message belongs to the Fast extension (only valid when both sides announced it).</summary>
    public bool IsFastExtension => Id is >= MessageId.Suggest and <= MessageId.AllowedFast;

    public static PeerMessage KeepAlive => new(MessageId.KeepAlive);
    public static PeerMessage Choke => new(MessageId.Choke);
    public static PeerMessage Unchoke => new(MessageId.Unchoke);
    public static PeerMessage Interested => new(MessageId.Interested);
    public static PeerMessage NotInterested => new(MessageId.NotInterested);
    public static PeerMessage HaveAll => new(MessageId.HaveAll);
    public static PeerMessage HaveNone => new(MessageId.HaveNone);

    public static PeerMessage Have(int pieceIndex) => new(MessageId.Have, pieceIndex);
    public static PeerMessage Suggest(int pieceIndex) => new(MessageId.Suggest, pieceIndex);
    public static PeerMessage AllowedFast(int pieceIndex) => new(MessageId.AllowedFast, pieceIndex);
    public static PeerMessage Request(BlockRequest block) => new(MessageId.Request, block.PieceIndex, block.Begin, block.Length);
    public static PeerMessage Cancel(BlockRequest block) => new(MessageId.Cancel, block.PieceIndex, block.Begin, block.Length);
    public static PeerMessage RejectRequest(BlockRequest block) => new(MessageId.RejectRequest, block.PieceIndex, block.Begin, block.Length);
    public static PeerMessage DhtPort(ushort port) => new(MessageId.Port, port: port);
    public static PeerMessage Bitfield(ReadOnlyMemory<byte> bytes) => new(MessageId.Bitfield, payload: new ReadOnlySequence<byte>(bytes));
    public static PeerMessage Piece(int pieceIndex, int begin, ReadOnlyMemory<byte> block) => Piece(pieceIndex, begin, new ReadOnlySequence<byte>(block));
    public static PeerMessage Piece(int pieceIndex, int begin, ReadOnlySequence<byte> block) => new(MessageId.Piece, pieceIndex, begin, checked((int)block.Length), payload: block);
    public static PeerMessage Extended(byte extendedId, ReadOnlyMemory<byte> body) => new(MessageId.Extended, extendedId: extendedId, payload: new ReadOnlySequence<byte>(body));
    public static PeerMessage Extended(byte extendedId, ReadOnlySequence<byte> body) => new(MessageId.Extended, extendedId: extendedId, payload: body);

    internal static PeerMessage Decoded(MessageId id, int index, int begin, int length, ushort port, byte extendedId, ReadOnlySequence<byte> payload) =>
        new(id, index, begin, length, port, extendedId, payload);

    /// <summary>
    /// Copies a bitfield message's payload into a <see cref="Common.BitField"/> of <paramref name="pieceCount"/>
    /// pieces; false when the size is wrong or spare bits are set (BEP 3: drop the peer).
    /// </summary>
    public bool TryGetBitField(int pieceCount, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Common.BitField? bitField)
    {
        bitField = null;
        if (Id != MessageId.Bitfield || Payload.Length != Common.BitField.ByteLengthFor(pieceCount)) return false;
        if (Payload.IsSingleSegment) return Common.BitField.TryFromBytes(Payload.FirstSpan, pieceCount, out bitField);
        var copy = System.Buffers.ArrayPool<byte>.Shared.Rent((int)Payload.Length);
        try
        {
            Payload.CopyTo(copy);
            return Common.BitField.TryFromBytes(copy.AsSpan(0, (int)Payload.Length), pieceCount, out bitField);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(copy);
        }
    }

    /// <summary>Length prefix plus id plus fixed fields, without the variable body.</summary>
    public int HeaderLength => Id switch
    {
        MessageId.KeepAlive => 4,
        MessageId.Have or MessageId.Suggest or MessageId.AllowedFast => 9,
        MessageId.Request or MessageId.Cancel or MessageId.RejectRequest => 17,
        MessageId.Port => 7,
        MessageId.Piece => 13,
        MessageId.Extended => 6,
        _ => 5,
    };

    /// <summary>Total bytes on the wire, length prefix included.</summary>
    public int EncodedLength => HeaderLength + (int)Payload.Length;

    /// <summary>Writes the length prefix, id and fixed fields (not the body), so a large block can be sent without copying it.</summary>
    public int EncodeHeader(Span<byte> destination)
    {
        var header = HeaderLength;
        if (destination.Length < header) throw new ArgumentException("The destination is too short.", nameof(destination));
        BinaryPrimitives.WriteInt32BigEndian(destination, EncodedLength - 4);
        if (Id == MessageId.KeepAlive) return header;
        destination[4] = (byte)Id;
        switch (Id)
        {
            case MessageId.Have or MessageId.Suggest or MessageId.AllowedFast:
                BinaryPrimitives.WriteInt32BigEndian(destination[5..], Index);
                break;
            case MessageId.Request or MessageId.Cancel or MessageId.RejectRequest:
                BinaryPrimitives.WriteInt32BigEndian(destination[5..], Index);
                BinaryPrimitives.WriteInt32BigEndian(destination[9..], Begin);
                BinaryPrimitives.WriteInt32BigEndian(destination[13..], Length);
                break;
            case MessageId.Port:
                BinaryPrimitives.WriteUInt16BigEndian(destination[5..], Port);
                break;
            case MessageId.Piece:
                BinaryPrimitives.WriteInt32BigEndian(destination[5..], Index);
                BinaryPrimitives.WriteInt32BigEndian(destination[9..], Begin);
                break;
            case MessageId.Extended:
                destination[5] = ExtendedId;
                break;
        }
        return header;
    }

    /// <summary>Writes the whole message; returns <see cref="EncodedLength"/>.</summary>
    public int Encode(Span<byte> destination)
    {
        var total = EncodedLength;
        if (destination.Length < total) throw new ArgumentException("The destination is too short.", nameof(destination));
        var header = EncodeHeader(destination);
        Payload.CopyTo(destination[header..]);
        return total;
    }

    /// <summary>Writes the whole message into <paramref name="writer"/> without allocating.</summary>
    public void WriteTo(IBufferWriter<byte> writer)
    {
        var header = HeaderLength;
        EncodeHeader(writer.GetSpan(header));
        writer.Advance(header);
        foreach (var segment in Payload)
        {
            // Copy in chunks the writer offers, so a 16 KiB block never needs one contiguous span.
            var source = segment.Span;
            while (!source.IsEmpty)
            {
                var span = writer.GetSpan(1);
                var n = Math.Min(span.Length, source.Length);
                source[..n].CopyTo(span);
                writer.Advance(n);
                source = source[n..];
            }
        }
    }

    public override string ToString() => Id switch
    {
        MessageId.Have or MessageId.Suggest or MessageId.AllowedFast => $"{Id}({Index})",
        MessageId.Request or MessageId.Cancel or MessageId.RejectRequest => $"{Id}({Block})",
        MessageId.Piece => $"Piece({Index} @{Begin}+{Payload.Length})",
        MessageId.Port => $"Port({Port})",
        MessageId.Bitfield => $"Bitfield({Payload.Length} bytes)",
        MessageId.Extended => $"Extended(id {ExtendedId}, {Payload.Length} bytes)",
        _ => IsKnown ? Id.ToString() : $"Unknown(id {(byte)Id}, {Payload.Length} bytes)",
    };
}
