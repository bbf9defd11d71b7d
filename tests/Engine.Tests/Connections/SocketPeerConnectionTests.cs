using System.Net;
using System.Net.Sockets;
using TorrentEdge.Engine.Connections;

namespace TorrentEdge.Engine.Tests.Connections;

public class SocketPeerConnectionTests
{
    private static CancellationTokenSource Timeout()
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(TimeSpan.FromSeconds(10));
        return cts;
    }

    [Fact]
    public async Task PeerListener_PortZero_ReportsActualPortAndYieldsIncomingConnection()
    {
        using var cts = Timeout();
        await using var listener = new PeerListener(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Start();
        Assert.NotEqual(0, listener.LocalEndPoint.Port);

        await using var outgoing = new SocketPeerConnection(listener.LocalEndPoint);
        await outgoing.ConnectAsync(cts.Token);
        await using var incoming = await listener.Connections.ReadAsync(cts.Token);

        Assert.True(incoming.IsIncoming);
        Assert.False(outgoing.IsIncoming);
        Assert.Equal(listener.LocalEndPoint, outgoing.RemoteEndPoint);
        Assert.Equal(IPAddress.Loopback, ((IPEndPoint)incoming.RemoteEndPoint).Address);

        var payload = new byte[100_000];
        Random.Shared.NextBytes(payload);
        var send = outgoing.SendAsync(payload, cts.Token);
        var received = new byte[payload.Length];
        var total = 0;
        while (total < received.Length)
        {
            var n = await incoming.ReceiveAsync(received.AsMemory(total), cts.Token);
            Assert.NotEqual(0, n);
            total += n;
        }
        await send;
        Assert.Equal(payload, received);
    }

    [Fact]
    public async Task DisposeAsync_Outgoing_IncomingReceivesZero()
    {
        using var cts = Timeout();
        await using var listener = new PeerListener(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Start();
        var outgoing = new SocketPeerConnection(listener.LocalEndPoint);
        await outgoing.ConnectAsync(cts.Token);
        await using var incoming = await listener.Connections.ReadAsync(cts.Token);

        await outgoing.DisposeAsync();
        Assert.Equal(0, await incoming.ReceiveAsync(new byte[16], cts.Token));
    }

    [Fact]
    public async Task ConnectAsync_NobodyListening_Throws()
    {
        using var cts = Timeout();
        // Bind then release a port so nothing listens on it.
        int port;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            port = ((IPEndPoint)probe.LocalEndPoint!).Port;
        }
        await using var connection = new SocketPeerConnection(new IPEndPoint(IPAddress.Loopback, port));
        var e = await Assert.ThrowsAsync<SocketException>(async () => await connection.ConnectAsync(cts.Token));
        Assert.Equal(SocketError.ConnectionRefused, e.SocketErrorCode);
    }

    [Fact]
    public async Task ConnectAsync_PeerNeverAnswers_TimesOutAfterConnectTimeout()
    {
        using var cts = Timeout();
        // A listener with a full backlog that never accepts: further SYNs go unanswered on Linux.
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        silent.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        silent.Listen(0);
        var endPoint = (IPEndPoint)silent.LocalEndPoint!;
        {
            var options = new SocketConnectionOptions { ConnectTimeout = TimeSpan.FromMilliseconds(300) };
            var sw = System.Diagnostics.Stopwatch.StartNew();
            TimeoutException? timedOut = null;
            for (var i = 0; i < 8 && timedOut is null; i++)
            {
                var connection = new SocketPeerConnection(endPoint, options);
                try
                {
                    await connection.ConnectAsync(cts.Token);
                }
                catch (TimeoutException e)
                {
                    timedOut = e;
                }
                await connection.DisposeAsync();
            }
            Assert.NotNull(timedOut);
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(8), $"took {sw.Elapsed}");
        }
    }

    [Fact]
    public async Task AcceptAllAsync_YieldsEachIncomingConnection()
    {
        using var cts = Timeout();
        await using var listener = new PeerListener(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Start();
        await using var first = new SocketPeerConnection(listener.LocalEndPoint);
        await using var second = new SocketPeerConnection(listener.LocalEndPoint);
        await first.ConnectAsync(cts.Token);
        await second.ConnectAsync(cts.Token);

        var accepted = new List<IPeerConnection>();
        await foreach (var connection in listener.AcceptAllAsync(cts.Token))
        {
            accepted.Add(connection);
            if (accepted.Count == 2) break;
        }
        foreach (var connection in accepted)
        {
            Assert.True(connection.IsIncoming);
            await connection.DisposeAsync();
        }
    }

    [Fact]
    public async Task PeerListener_Dispose_CompletesTheChannel()
    {
        using var cts = Timeout();
        var listener = new PeerListener(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Start();
        await listener.DisposeAsync();
        Assert.False(await listener.Connections.WaitToReadAsync(cts.Token));
    }
}
