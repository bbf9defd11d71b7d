using System.Buffers.Binary;
using TorrentEdge.Engine.Protocol;

namespace TorrentEdge.Engine.Tests.Connections;

/// <summary>Raw peer-wire byte streams for reader tests.</summary>
internal static class WireStreams
{
    /// <summary><paramref name="count"/> piece messages of 16 KiB blocks (zeros), 64 blocks to a piece.</summary>
    public static byte[] Pieces(int count)
    {
        const int block = BlockRequest.StandardBlockLength;
        var stream = new byte[count * (13 + block)];
        for (var i = 0; i < count; i++)
        {
            var m = stream.AsSpan(i * (13 + block));
            BinaryPrimitives.WriteInt32BigEndian(m, 9 + block);
            m[4] = (byte)MessageId.Piece;
            BinaryPrimitives.WriteInt32BigEndian(m[5..], i / 64);
            BinaryPrimitives.WriteInt32BigEndian(m[9..], i % 64 * block);
        }
        return stream;
    }
}
