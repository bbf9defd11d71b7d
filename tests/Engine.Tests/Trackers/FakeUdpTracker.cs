using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace TorrentEdge.Engine.Tests.Trackers;

/// <summary>An in-process BEP 15 tracker on 127.0.0.1 whose behaviour tests script.</summary>
internal sealed class FakeUdpTracker : IAsyncDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _nextConnectionId = 0x1000;

    public FakeUdpTracker()
    {
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _loop = Task.Run(LoopAsync);
    }

    public Uri AnnounceUri => new($"udp://127.0.0.1:{((IPEndPoint)_socket.LocalEndPoint!).Port}/announce");

    /// <summary>Datagrams to ignore before answering (to force retransmission).</summary>
    public int DropCount { get; set; }

    /// <summary>When set, announces get an error action with this message.</summary>
    public string? AnnounceError { get; set; }

    /// <summary>Send a reply with a wrong transaction id before each real reply.</summary>
    public bool SendWrongTransactionFirst { get; set; }

    public byte[] Peers { get; set; } = [];

    /// <summary>Answer announces with a bare 8-byte header, as opentracker does for torrents it does not serve.</summary>
    public bool BareAnnounceReply { get; set; }

    public int Interval { get; set; } = 1800;

    public int Received { get; private set; }

    public int Connects { get; private set; }

    public List<(long ConnectionId, byte[] InfoHash, byte[] PeerId, long Downloaded, long Left, long Uploaded, int Event, uint Key, int NumWant, int Port)> Announces { get; } = [];

    private readonly HashSet<long> _issued = [];

    private async Task LoopAsync()
    {
        var buffer = new byte[2048];
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult r;
            try
            {
                r = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), _stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }

            Received++;
            if (DropCount > 0)
            {
                DropCount--;
                continue;
            }

            var req = buffer.AsSpan(0, r.ReceivedBytes).ToArray();
            if (req.Length < 16) continue;
            var action = BinaryPrimitives.ReadInt32BigEndian(req.AsSpan(8));
            var tid = BinaryPrimitives.ReadInt32BigEndian(req.AsSpan(12));
            var cid = BinaryPrimitives.ReadInt64BigEndian(req);
            byte[] reply;
            if (action == 0 && cid == 0x41727101980)
            {
                Connects++;
                var id = _nextConnectionId++;
                _issued.Add(id);
                reply = new byte[16];
                BinaryPrimitives.WriteInt64BigEndian(reply.AsSpan(8), id);
            }
            else if (!_issued.Contains(cid))
            {
                reply = Error(tid, "bad connection id");
            }
            else if (action == 1 && req.Length >= 98)
            {
                Announces.Add((cid, req[16..36], req[36..56], BinaryPrimitives.ReadInt64BigEndian(req.AsSpan(56)), BinaryPrimitives.ReadInt64BigEndian(req.AsSpan(64)),
                    BinaryPrimitives.ReadInt64BigEndian(req.AsSpan(72)), BinaryPrimitives.ReadInt32BigEndian(req.AsSpan(80)), BinaryPrimitives.ReadUInt32BigEndian(req.AsSpan(88)),
                    BinaryPrimitives.ReadInt32BigEndian(req.AsSpan(92)), BinaryPrimitives.ReadUInt16BigEndian(req.AsSpan(96))));
                if (AnnounceError is not null)
                {
                    reply = Error(tid, AnnounceError);
                }
                else if (BareAnnounceReply)
                {
                    reply = new byte[8];
                }
                else
                {
                    reply = new byte[20 + Peers.Length];
                    BinaryPrimitives.WriteInt32BigEndian(reply.AsSpan(8), Interval);
                    BinaryPrimitives.WriteInt32BigEndian(reply.AsSpan(12), 3); // leechers
                    BinaryPrimitives.WriteInt32BigEndian(reply.AsSpan(16), 2); // seeders
                    Peers.CopyTo(reply.AsSpan(20));
                }
            }
            else if (action == 2)
            {
                var n = (req.Length - 16) / 20;
                reply = new byte[8 + (12 * n)];
                for (var i = 0; i < n; i++)
                {
                    BinaryPrimitives.WriteInt32BigEndian(reply.AsSpan(8 + (12 * i)), 10 + i);
                    BinaryPrimitives.WriteInt32BigEndian(reply.AsSpan(12 + (12 * i)), 20 + i);
                    BinaryPrimitives.WriteInt32BigEndian(reply.AsSpan(16 + (12 * i)), 30 + i);
                }
            }
            else
            {
                continue;
            }

            if (BinaryPrimitives.ReadInt32BigEndian(reply) != 3) BinaryPrimitives.WriteInt32BigEndian(reply, action);
            if (SendWrongTransactionFirst)
            {
                var wrong = (byte[])reply.Clone();
                BinaryPrimitives.WriteInt32BigEndian(wrong.AsSpan(4), tid + 1);
                if (wrong.Length >= 12) BinaryPrimitives.WriteInt32BigEndian(wrong.AsSpan(8), 1); // poisons connection id / interval
                await _socket.SendToAsync(wrong, SocketFlags.None, r.RemoteEndPoint);
            }

            BinaryPrimitives.WriteInt32BigEndian(reply.AsSpan(4), tid);
            await _socket.SendToAsync(reply, SocketFlags.None, r.RemoteEndPoint);
        }
    }

    private static byte[] Error(int tid, string message)
    {
        var m = Encoding.UTF8.GetBytes(message);
        var reply = new byte[8 + m.Length];
        BinaryPrimitives.WriteInt32BigEndian(reply, 3);
        m.CopyTo(reply, 8);
        return reply;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _socket.Dispose();
        try
        {
            await _loop.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception)
        {
            // The loop ends with the socket; nothing else to clean up.
        }

        _stop.Dispose();
    }
}
