using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace TorrentEdge.Engine.InteropTests.Support;

/// <summary>
/// A lying seeder: claims every piece (have all via bitfield), unchokes, and answers every request
/// with garbage of the right length. Speaks just enough plain BEP 3 over TCP on 127.0.0.1.
/// </summary>
public sealed class CorruptSeeder : IAsyncDisposable
{
    // An address of its own: bans count per address, and the honest peers of a test live on 127.0.0.1.
    public static readonly IPAddress Address = IPAddress.Parse("127.0.0.3");
    private readonly TcpListener _listener = new(Address, 0);
    private readonly CancellationTokenSource _cts = new();
    private readonly byte[] _infoHash;
    private readonly int _pieceCount;
    private readonly Task _accept;
    private int _blocksServed;

    public CorruptSeeder(byte[] infoHash, int pieceCount)
    {
        _infoHash = infoHash;
        _pieceCount = pieceCount;
        _listener.Start();
        _accept = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public int BlocksServed => Volatile.Read(ref _blocksServed);

    private async Task AcceptAsync()
    {
        var sessions = new List<Task>();
        try
        {
            while (!_cts.IsCancellationRequested)
            {
                var client = await _listener.AcceptTcpClientAsync(_cts.Token);
                sessions.Add(ServeAsync(client));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
        await Task.WhenAll(sessions).WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { });
    }

    private async Task ServeAsync(TcpClient client)
    {
        var ct = _cts.Token;
        using var _ = client;
        try
        {
            var stream = client.GetStream();
            var hs = new byte[68];
            await stream.ReadExactlyAsync(hs, ct);
            var reply = new byte[68];
            reply[0] = 19;
            "BitTorrent protocol"u8.CopyTo(reply.AsSpan(1));
            _infoHash.CopyTo(reply, 28);
            "-XX0001-liar00000000"u8.CopyTo(reply.AsSpan(48));
            await stream.WriteAsync(reply, ct);
            var bitfieldLength = (_pieceCount + 7) / 8;
            var bitfield = new byte[5 + bitfieldLength];
            BinaryPrimitives.WriteInt32BigEndian(bitfield, 1 + bitfieldLength);
            bitfield[4] = 5;
            for (var i = 0; i < _pieceCount; i++) bitfield[5 + i / 8] |= (byte)(0x80 >> (i % 8));
            await stream.WriteAsync(bitfield, ct);
            await stream.WriteAsync(new byte[] { 0, 0, 0, 1, 1 }, ct); // unchoke
            var header = new byte[4];
            var garbage = new byte[13 + 16 * 1024];
            Random.Shared.NextBytes(garbage);
            while (!ct.IsCancellationRequested)
            {
                await stream.ReadExactlyAsync(header, ct);
                var length = BinaryPrimitives.ReadInt32BigEndian(header);
                if (length == 0) continue;
                if (length < 0 || length > 1 << 20) return;
                var body = new byte[length];
                await stream.ReadExactlyAsync(body, ct);
                if (body[0] != 6 || length != 13) continue; // only requests matter
                var index = BinaryPrimitives.ReadInt32BigEndian(body.AsSpan(1));
                var begin = BinaryPrimitives.ReadInt32BigEndian(body.AsSpan(5));
                var blockLength = BinaryPrimitives.ReadInt32BigEndian(body.AsSpan(9));
                if (blockLength > 16 * 1024) return;
                BinaryPrimitives.WriteInt32BigEndian(garbage, 9 + blockLength);
                garbage[4] = 7;
                BinaryPrimitives.WriteInt32BigEndian(garbage.AsSpan(5), index);
                BinaryPrimitives.WriteInt32BigEndian(garbage.AsSpan(9), begin);
                await stream.WriteAsync(garbage.AsMemory(0, 13 + blockLength), ct);
                Interlocked.Increment(ref _blocksServed);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or EndOfStreamException or ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync();
        _listener.Stop();
        await _accept.WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { });
        _cts.Dispose();
    }
}
