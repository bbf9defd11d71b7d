using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using TorrentEdge.Engine.Bencoding;

namespace TorrentEdge.Engine.Protocol;

/// <summary>ut_metadata message types (BEP 9).</summary>
public enum MetadataMessageType
{
    Request = 0,
    Data = 1,
    Reject = 2,
}

/// <summary>
/// A ut_metadata (BEP 9) message: a bencoded dictionary (msg_type, piece, total_size for data) followed, for
/// data, by the raw metadata piece. <see cref="Data"/> is a slice of the parsed body (no copy).
/// </summary>
public readonly struct MetadataMessage
{
    /// <summary>Metadata travels in 16 KiB pieces; only the last one is shorter.</summary>
    public const int PieceLength = 16 * 1024;

    private static readonly BencodeReaderOptions Lenient = new() { RequireSortedKeys = false, MaxInputLength = 1024 * 1024 };

    private MetadataMessage(MetadataMessageType type, int piece, int totalSize, ReadOnlySequence<byte> data)
    {
        Type = type;
        Piece = piece;
        TotalSize = totalSize;
        Data = data;
    }

    public MetadataMessageType Type { get; }

    public int Piece { get; }

    /// <summary>Size of the whole info dictionary (data messages only).</summary>
    public int TotalSize { get; }

    /// <summary>The metadata piece (data messages only).</summary>
    public ReadOnlySequence<byte> Data { get; }

    public static MetadataMessage Request(int piece) => new(MetadataMessageType.Request, piece, 0, default);

    public static MetadataMessage Reject(int piece) => new(MetadataMessageType.Reject, piece, 0, default);

    public static MetadataMessage DataPiece(int piece, int totalSize, ReadOnlyMemory<byte> data) =>
        new(MetadataMessageType.Data, piece, totalSize, new ReadOnlySequence<byte>(data));

    /// <summary>Number of pieces metadata of <paramref name="metadataSize"/> bytes has.</summary>
    public static int PieceCount(int metadataSize) => (metadataSize + PieceLength - 1) / PieceLength;

    /// <summary>Length of piece <paramref name="piece"/> of metadata of <paramref name="metadataSize"/> bytes.</summary>
    public static int GetPieceLength(int metadataSize, int piece) => Math.Min(PieceLength, metadataSize - piece * PieceLength);

    /// <summary>
    /// Parses an extended message body. Fails on a missing or bad msg_type/piece, an unknown type, or data
    /// whose total_size is missing or whose length does not fit that size and piece.
    /// </summary>
    public static bool TryParse(ReadOnlySequence<byte> body, out MetadataMessage message)
    {
        message = default;
        BDictionary header;
        int consumed;
        try
        {
            var memory = body.IsSingleSegment ? body.First : body.ToArray();
            if (BencodeReader.DecodePrefix(memory, out consumed, Lenient) is not BDictionary d) return false;
            header = d;
        }
        catch (BencodeException)
        {
            return false;
        }
        if (header.Get<BInteger>("msg_type") is not { Value: >= 0 and <= 2 } type) return false;
        if (header.Get<BInteger>("piece") is not { Value: >= 0 and <= int.MaxValue } piece) return false;
        var kind = (MetadataMessageType)type.Value;
        if (kind != MetadataMessageType.Data)
        {
            message = new(kind, (int)piece.Value, 0, default);
            return true;
        }
        if (header.Get<BInteger>("total_size") is not { Value: > 0 and <= int.MaxValue } total) return false;
        var data = body.Slice(consumed);
        var index = (int)piece.Value;
        if (index >= PieceCount((int)total.Value) || data.Length != GetPieceLength((int)total.Value, index)) return false;
        message = new(kind, index, (int)total.Value, data);
        return true;
    }

    public static bool TryParse(ReadOnlyMemory<byte> body, out MetadataMessage message) =>
        TryParse(new ReadOnlySequence<byte>(body), out message);

    /// <summary>Length of the body (dictionary plus data).</summary>
    public int BodyLength => HeaderLength + (int)Data.Length;

    private int HeaderLength =>
        // d8:msg_typei{t}e5:piecei{p}e[10:total_sizei{n}e]e
        2 + "8:msg_typei".Length + 2 + "5:piecei".Length + Digits(Piece) + 1
        + (Type == MetadataMessageType.Data ? "10:total_sizei".Length + Digits(TotalSize) + 1 : 0);

    /// <summary>Writes the body into a span; returns <see cref="BodyLength"/>.</summary>
    public int EncodeBody(Span<byte> destination)
    {
        var n = 0;
        Put(destination, ref n, "d8:msg_typei"u8);
        Number(destination, ref n, (int)Type);
        Put(destination, ref n, "e5:piecei"u8);
        Number(destination, ref n, Piece);
        destination[n++] = (byte)'e';
        if (Type == MetadataMessageType.Data)
        {
            Put(destination, ref n, "10:total_sizei"u8);
            Number(destination, ref n, TotalSize);
            destination[n++] = (byte)'e';
        }
        destination[n++] = (byte)'e';
        Data.CopyTo(destination[n..]);
        return n + (int)Data.Length;
    }

    /// <summary>
    /// Writes the whole peer wire message (length prefix, id 20, the peer's ut_metadata id, body) into
    /// <paramref name="writer"/> without intermediate arrays.
    /// </summary>
    public void WriteTo(IBufferWriter<byte> writer, byte remoteExtensionId)
    {
        var body = BodyLength;
        var total = 6 + body;
        var span = writer.GetSpan(total);
        BinaryPrimitives.WriteInt32BigEndian(span, total - 4);
        span[4] = (byte)MessageId.Extended;
        span[5] = remoteExtensionId;
        EncodeBody(span[6..]);
        writer.Advance(total);
    }

    private static int Digits(int value)
    {
        var digits = 1;
        while (value >= 10) { value /= 10; digits++; }
        return digits;
    }

    private static void Put(Span<byte> destination, ref int n, ReadOnlySpan<byte> text)
    {
        text.CopyTo(destination[n..]);
        n += text.Length;
    }

    private static void Number(Span<byte> destination, ref int n, int value)
    {
        Utf8Formatter.TryFormat(value, destination[n..], out var written);
        n += written;
    }
}
