using System.Buffers;
using System.Diagnostics.CodeAnalysis;

namespace TorrentEdge.Engine.Protocol;

/// <summary>Outcome of parsing a handshake.</summary>
public enum HandshakeStatus
{
    /// <summary>All 68 bytes arrived and they are a BitTorrent handshake.</summary>
    Complete,
    /// <summary>Fewer than 68 bytes so far (and what arrived is plausible).</summary>
    Incomplete,
    /// <summary>Not the BitTorrent protocol: drop the connection.</summary>
    Invalid,
}

/// <summary>The BEP 3 handshake: pstrlen, "BitTorrent protocol", 8 reserved bytes, info-hash, peer id (68 bytes).</summary>
public readonly struct Handshake
{
    public const int Length = 68;
    public const int InfoHashLength = 20;
    private const int PstrLength = 19;

    /// <summary>"\x13BitTorrent protocol".</summary>
    public static ReadOnlySpan<byte> Prefix => "\u0013BitTorrent protocol"u8;

    private readonly Bytes20 _infoHash;

    public Handshake(ReservedBits reserved, ReadOnlySpan<byte> infoHash, PeerId peerId)
    {
        if (infoHash.Length != InfoHashLength) throw new ArgumentException("An info-hash is 20 bytes.", nameof(infoHash));
        Reserved = reserved;
        infoHash.CopyTo(_infoHash);
        PeerId = peerId;
    }

    public Handshake(ReservedBits reserved, Metainfo.InfoHash infoHash, PeerId peerId)
    {
        Reserved = reserved;
        infoHash.CopyTo(_infoHash);
        PeerId = peerId;
    }

    public ReservedBits Reserved { get; }

    /// <summary>The info-hash as the engine's <see cref="Metainfo.InfoHash"/> (for lookups by torrent).</summary>
    public Metainfo.InfoHash GetInfoHash() => new(_infoHash);

    public PeerId PeerId { get; }

    /// <summary>The 20-byte (v1, or truncated v2) info-hash.</summary>
    [UnscopedRef]
    public ReadOnlySpan<byte> InfoHash => _infoHash;

    /// <summary>Writes the 68 bytes; returns <see cref="Length"/>.</summary>
    public int Encode(Span<byte> destination)
    {
        if (destination.Length < Length) throw new ArgumentException("The destination is shorter than 68 bytes.", nameof(destination));
        Prefix.CopyTo(destination);
        Reserved.Write(destination.Slice(20, 8));
        ((ReadOnlySpan<byte>)_infoHash).CopyTo(destination.Slice(28, 20));
        PeerId.CopyTo(destination.Slice(48, 20));
        return Length;
    }

    public void WriteTo(IBufferWriter<byte> writer)
    {
        Encode(writer.GetSpan(Length));
        writer.Advance(Length);
    }

    public static HandshakeStatus TryParse(ReadOnlySpan<byte> input, out Handshake handshake)
    {
        handshake = default;
        // Judge the prefix as soon as bytes arrive so a stranger is dropped early.
        var prefixPart = input[..Math.Min(input.Length, Prefix.Length)];
        if (!Prefix.StartsWith(prefixPart)) return HandshakeStatus.Invalid;
        if (input.Length < Length) return HandshakeStatus.Incomplete;
        handshake = new Handshake(
            ReservedBits.Read(input.Slice(20, 8)),
            input.Slice(28, 20),
            PeerId.FromBytes(input.Slice(48, 20)));
        return HandshakeStatus.Complete;
    }

    /// <summary>Parses from a pipe buffer; on <see cref="HandshakeStatus.Complete"/>, <paramref name="consumed"/> is just past the handshake.</summary>
    public static HandshakeStatus TryParse(in ReadOnlySequence<byte> input, out Handshake handshake, out SequencePosition consumed)
    {
        consumed = input.Start;
        Span<byte> buffer = stackalloc byte[Length];
        var available = (int)Math.Min(input.Length, Length);
        input.Slice(0, available).CopyTo(buffer);
        var status = TryParse(buffer[..available], out handshake);
        if (status == HandshakeStatus.Complete) consumed = input.GetPosition(Length);
        return status;
    }

    public override string ToString() => $"Handshake(peer {PeerId}, reserved {Reserved.Value:X16}, info-hash {Convert.ToHexStringLower(InfoHash)})";
}
