using System.Buffers.Binary;

namespace TorrentEdge.Engine.Protocol;

/// <summary>The 8 reserved bytes of the handshake, which peers use to announce extensions.</summary>
public readonly record struct ReservedBits(ulong Value)
{
    // Bit positions counted from the most significant bit of byte 0, as the bytes go on the wire.
    private const ulong ExtensionProtocolMask = 0x10UL << 16; // reserved[5] & 0x10 (BEP 10)
    private const ulong FastExtensionMask = 0x04UL;           // reserved[7] & 0x04 (BEP 6)
    private const ulong DhtMask = 0x01UL;                     // reserved[7] & 0x01 (BEP 5)

    public static ReservedBits None => default;

    /// <summary>What this engine announces: the Fast extension and the extension protocol.</summary>
    public static ReservedBits Default => None.WithFastExtension(true).WithExtensionProtocol(true);

    public bool SupportsFastExtension => (Value & FastExtensionMask) != 0;

    public bool SupportsExtensionProtocol => (Value & ExtensionProtocolMask) != 0;

    public bool SupportsDht => (Value & DhtMask) != 0;

    public ReservedBits WithFastExtension(bool on) => With(FastExtensionMask, on);

    public ReservedBits WithExtensionProtocol(bool on) => With(ExtensionProtocolMask, on);

    public ReservedBits WithDht(bool on) => With(DhtMask, on);

    /// <summary>Extensions both sides announced.</summary>
    public ReservedBits Intersect(ReservedBits other) => new(Value & other.Value);

    public static ReservedBits Read(ReadOnlySpan<byte> eightBytes) => new(BinaryPrimitives.ReadUInt64BigEndian(eightBytes));

    public void Write(Span<byte> eightBytes) => BinaryPrimitives.WriteUInt64BigEndian(eightBytes, Value);

    private ReservedBits With(ulong mask, bool on) => new(on ? Value | mask : Value & ~mask);
}
