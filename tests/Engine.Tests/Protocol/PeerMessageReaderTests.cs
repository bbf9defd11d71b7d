using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using TorrentEdge.Engine.Protocol;
using TorrentEdge.Engine.Tests.TestSupport;

namespace TorrentEdge.Engine.Tests.Protocol;

public class PeerMessageReaderTests
{
    private static readonly FrameLimits Limits = FrameLimits.Default;

    public static TheoryData<string> MessageNames => new(AllMessages().Select(m => m.Name));

    private static IEnumerable<(string Name, PeerMessage Message)> AllMessages()
    {
        yield return ("keep-alive", PeerMessage.KeepAlive);
        yield return ("choke", PeerMessage.Choke);
        yield return ("unchoke", PeerMessage.Unchoke);
        yield return ("interested", PeerMessage.Interested);
        yield return ("not interested", PeerMessage.NotInterested);
        yield return ("have", PeerMessage.Have(123456));
        yield return ("bitfield", PeerMessage.Bitfield(new byte[] { 0xFF, 0x0F, 0x80 }));
        yield return ("request", PeerMessage.Request(new BlockRequest(7, 16384, 16384)));
        yield return ("piece", PeerMessage.Piece(7, 32768, Enumerable.Range(0, 16384).Select(i => (byte)i).ToArray()));
        yield return ("cancel", PeerMessage.Cancel(new BlockRequest(8, 0, 1000)));
        yield return ("port", PeerMessage.DhtPort(6881));
        yield return ("suggest", PeerMessage.Suggest(42));
        yield return ("have all", PeerMessage.HaveAll);
        yield return ("have none", PeerMessage.HaveNone);
        yield return ("reject", PeerMessage.RejectRequest(new BlockRequest(9, 16384, 512)));
        yield return ("allowed fast", PeerMessage.AllowedFast(1313));
        yield return ("extended", PeerMessage.Extended(3, "d8:msg_typei0e5:piecei0ee"u8.ToArray()));
    }

    private static PeerMessage Named(string name) => AllMessages().Single(m => m.Name == name).Message;

    private static byte[] Encode(PeerMessage message)
    {
        var bytes = new byte[message.EncodedLength];
        Assert.Equal(bytes.Length, message.Encode(bytes));
        return bytes;
    }

    private static void AssertSame(PeerMessage expected, PeerMessage actual)
    {
        Assert.Equal(expected.Id, actual.Id);
        Assert.Equal(expected.Index, actual.Index);
        Assert.Equal(expected.Begin, actual.Begin);
        Assert.Equal(expected.Length, actual.Length);
        Assert.Equal(expected.Port, actual.Port);
        Assert.Equal(expected.ExtendedId, actual.ExtendedId);
        Assert.Equal(expected.Payload.ToArray(), actual.Payload.ToArray());
    }

    [Theory]
    [MemberData(nameof(MessageNames))]
    public void TryRead_EncodedMessage_RoundTrips(string name)
    {
        var message = Named(name);
        var bytes = Encode(message);
        var input = new ReadOnlySequence<byte>(bytes);

        Assert.Equal(FrameStatus.Complete, PeerMessageReader.TryRead(input, Limits, out var read, out var consumed));
        AssertSame(message, read);
        Assert.True(read.IsKnown);
        Assert.Equal(input.End, consumed);
    }

    [Theory]
    [MemberData(nameof(MessageNames))]
    public void TryRead_SplitAcrossSegments_IncompleteUntilLastByteThenSame(string name)
    {
        var message = Named(name);
        var bytes = Encode(message);
        for (var cut = 1; cut < bytes.Length; cut += Math.Max(1, bytes.Length / 40))
        {
            var prefix = Sequences.Split(bytes[..cut], cut / 2);
            Assert.Equal(FrameStatus.Incomplete, PeerMessageReader.TryRead(prefix, Limits, out _, out var notConsumed));
            Assert.Equal(prefix.Start, notConsumed);

            var whole = Sequences.Split(bytes, cut / 2, cut);
            Assert.Equal(FrameStatus.Complete, PeerMessageReader.TryRead(whole, Limits, out var read, out var consumed));
            AssertSame(message, read);
            Assert.Equal(whole.Length, whole.Slice(0, consumed).Length);
        }
    }

    [Theory]
    [MemberData(nameof(MessageNames))]
    public void WriteTo_BufferWriter_MatchesEncode(string name)
    {
        var message = Named(name);
        var writer = new ArrayBufferWriter<byte>(1);
        message.WriteTo(writer);
        Assert.Equal(Encode(message), writer.WrittenSpan.ToArray());
    }

    [Fact]
    public void Encode_Request_HasBep3ByteLayout()
    {
        var bytes = Encode(PeerMessage.Request(new BlockRequest(1, 2, 16384)));
        Assert.Equal(new byte[] { 0, 0, 0, 13, 6, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0x40, 0 }, bytes);
        Assert.Equal(new byte[] { 0, 0, 0, 0 }, Encode(PeerMessage.KeepAlive));
        Assert.Equal(new byte[] { 0, 0, 0, 1, 0x0E }, Encode(PeerMessage.HaveAll));
    }

    [Fact]
    public void TryRead_TwoGigabyteLength_TooLargeFromTheFourBytePrefixAlone()
    {
        var input = new ReadOnlySequence<byte>(new byte[] { 0x80, 0, 0, 0 });
        Assert.Equal(FrameStatus.TooLarge, PeerMessageReader.TryRead(input, Limits, out _, out _));

        input = new ReadOnlySequence<byte>(new byte[] { 0x7F, 0xFF, 0xFF, 0xFF, 7 });
        Assert.Equal(FrameStatus.TooLarge, PeerMessageReader.TryRead(input, Limits, out _, out _));

        input = new ReadOnlySequence<byte>(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF });
        Assert.Equal(FrameStatus.TooLarge, PeerMessageReader.TryRead(input, Limits, out _, out _));
    }

    [Fact]
    public void TryRead_PieceLargerThanMaxBlock_TooLargeBeforeBodyArrives()
    {
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, 9 + 32 * 1024);
        header[4] = (byte)MessageId.Piece;
        Assert.Equal(FrameStatus.TooLarge, PeerMessageReader.TryRead(new ReadOnlySequence<byte>(header, 0, 5), Limits, out _, out _));

        var larger = Limits with { MaxBlockLength = 32 * 1024 };
        Assert.Equal(FrameStatus.Incomplete, PeerMessageReader.TryRead(new ReadOnlySequence<byte>(header), larger, out _, out _));
    }

    [Fact]
    public void TryRead_BitfieldLargerThanPieceCount_TooLarge()
    {
        var limits = Limits.ForPieceCount(20); // 3 bytes
        Assert.Equal(FrameStatus.Complete, PeerMessageReader.TryRead(new ReadOnlySequence<byte>(Encode(PeerMessage.Bitfield(new byte[3]))), limits, out _, out _));
        Assert.Equal(FrameStatus.TooLarge, PeerMessageReader.TryRead(new ReadOnlySequence<byte>(Encode(PeerMessage.Bitfield(new byte[4]))), limits, out _, out _));
    }

    [Fact]
    public void TryRead_ExtendedLargerThanLimit_TooLarge()
    {
        var limits = Limits with { MaxExtendedLength = 100 };
        Assert.Equal(FrameStatus.Complete, PeerMessageReader.TryRead(new ReadOnlySequence<byte>(Encode(PeerMessage.Extended(1, new byte[100]))), limits, out _, out _));
        Assert.Equal(FrameStatus.TooLarge, PeerMessageReader.TryRead(new ReadOnlySequence<byte>(Encode(PeerMessage.Extended(1, new byte[101]))), limits, out _, out _));
    }

    [Theory]
    [InlineData(MessageId.Choke, 2)]
    [InlineData(MessageId.Unchoke, 5)]
    [InlineData(MessageId.Interested, 3)]
    [InlineData(MessageId.NotInterested, 13)]
    [InlineData(MessageId.HaveAll, 5)]
    [InlineData(MessageId.HaveNone, 2)]
    [InlineData(MessageId.Have, 4)]
    [InlineData(MessageId.Have, 6)]
    [InlineData(MessageId.Suggest, 1)]
    [InlineData(MessageId.AllowedFast, 9)]
    [InlineData(MessageId.Request, 12)]
    [InlineData(MessageId.Request, 14)]
    [InlineData(MessageId.Cancel, 5)]
    [InlineData(MessageId.RejectRequest, 17)]
    [InlineData(MessageId.Port, 2)]
    [InlineData(MessageId.Port, 5)]
    [InlineData(MessageId.Piece, 8)]
    [InlineData(MessageId.Piece, 1)]
    [InlineData(MessageId.Extended, 1)]
    public void TryRead_FixedSizeMessageWithWrongLength_MalformedWithoutWaitingForBody(MessageId id, int length)
    {
        var bytes = new byte[5];
        BinaryPrimitives.WriteInt32BigEndian(bytes, length);
        bytes[4] = (byte)id;
        Assert.Equal(FrameStatus.Malformed, PeerMessageReader.TryRead(new ReadOnlySequence<byte>(bytes), Limits, out _, out var consumed));
        Assert.Equal(0, consumed.GetInteger());
    }

    [Fact]
    public void TryRead_NegativeIndexOrZeroLengthRequest_Malformed()
    {
        var have = Encode(PeerMessage.Have(0));
        BinaryPrimitives.WriteInt32BigEndian(have.AsSpan(5), -1);
        Assert.Equal(FrameStatus.Malformed, PeerMessageReader.TryRead(new ReadOnlySequence<byte>(have), Limits, out _, out _));

        var request = Encode(PeerMessage.Request(new BlockRequest(0, 0, 1)));
        BinaryPrimitives.WriteInt32BigEndian(request.AsSpan(13), 0);
        Assert.Equal(FrameStatus.Malformed, PeerMessageReader.TryRead(new ReadOnlySequence<byte>(request), Limits, out _, out _));
    }

    [Fact]
    public void TryRead_UnknownId_CompleteAndSkippable()
    {
        // Id 21 (e.g. a future extension) with a 3-byte body, followed by a have.
        byte[] bytes = [0, 0, 0, 4, 21, 1, 2, 3, .. Encode(PeerMessage.Have(5))];
        var input = new ReadOnlySequence<byte>(bytes);

        Assert.Equal(FrameStatus.Complete, PeerMessageReader.TryRead(input, Limits, out var unknown, out var consumed));
        Assert.False(unknown.IsKnown);
        Assert.Equal((MessageId)21, unknown.Id);
        Assert.Equal(new byte[] { 1, 2, 3 }, unknown.Payload.ToArray());

        input = input.Slice(consumed);
        Assert.Equal(FrameStatus.Complete, PeerMessageReader.TryRead(input, Limits, out var have, out _));
        Assert.Equal(MessageId.Have, have.Id);
        Assert.Equal(5, have.Index);
    }

    [Fact]
    public void TryRead_BackToBackMessagesWithSequenceReader_ReadsEachInOrder()
    {
        byte[] bytes = [.. Encode(PeerMessage.Unchoke), .. Encode(PeerMessage.Have(1)), .. Encode(PeerMessage.KeepAlive), .. Encode(PeerMessage.Request(new BlockRequest(1, 0, 16384)))[..10]];
        var reader = new SequenceReader<byte>(Sequences.Split(bytes, 3, 11, 16));
        var ids = new List<MessageId>();
        while (PeerMessageReader.TryRead(ref reader, Limits, out var message) == FrameStatus.Complete) ids.Add(message.Id);

        Assert.Equal([MessageId.Unchoke, MessageId.Have, MessageId.KeepAlive], ids);
        Assert.Equal(10, reader.Remaining);
    }

    [Fact]
    public void TryGetBitField_RightSizeAcrossSegments_CopiesBits_WrongSizeOrSpareBits_Fails()
    {
        var bytes = Encode(PeerMessage.Bitfield(new byte[] { 0b1010_0000, 0b1100_0000 }));
        Assert.Equal(FrameStatus.Complete, PeerMessageReader.TryRead(Sequences.Split(bytes, 6), Limits, out var message, out _));

        Assert.True(message.TryGetBitField(10, out var bits));
        Assert.Equal([0, 2, 8, 9], Enumerable.Range(0, 10).Where(i => bits[i]).ToArray());
        Assert.False(message.TryGetBitField(9, out _));  // bit 9 is a spare bit for 9 pieces
        Assert.False(message.TryGetBitField(20, out _)); // 3 bytes expected
        Assert.False(PeerMessage.Have(1).TryGetBitField(10, out _));
    }

    [Fact]
    public void TryRead_Piece_BlockIsASliceOfTheInputNotACopy()
    {
        var block = new byte[16384];
        Random.Shared.NextBytes(block);
        var bytes = Encode(PeerMessage.Piece(3, 0, block));

        Assert.Equal(FrameStatus.Complete, PeerMessageReader.TryRead(new ReadOnlySequence<byte>(bytes), Limits, out var piece, out _));
        Assert.True(MemoryMarshal.TryGetArray(piece.Payload.First, out var segment));
        Assert.Same(bytes, segment.Array);
        Assert.Equal(13, segment.Offset);
        Assert.Equal(block.Length, piece.Length);
        Assert.Equal(block, piece.Payload.ToArray());
    }

    [Fact]
    public void TryRead_And_WriteTo_AllocateNothingPerMessage()
    {
        byte[] bytes = [.. Encode(PeerMessage.Piece(3, 0, new byte[16384])), .. Encode(PeerMessage.Have(9)), .. Encode(PeerMessage.Request(new BlockRequest(1, 0, 16384)))];
        var input = Sequences.Split(bytes, 100, 16400);
        var writer = new ArrayBufferWriter<byte>(64 * 1024);
        var request = PeerMessage.Request(new BlockRequest(1, 2, 3));
        var limits = Limits;
        Read(input, limits, writer, request); // warm up

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++) Read(input, limits, writer, request);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        static void Read(ReadOnlySequence<byte> input, FrameLimits limits, ArrayBufferWriter<byte> writer, PeerMessage request)
        {
            while (PeerMessageReader.TryRead(input, limits, out _, out var consumed) == FrameStatus.Complete) input = input.Slice(consumed);
            writer.ResetWrittenCount();
            request.WriteTo(writer);
        }
    }
}
