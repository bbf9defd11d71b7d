using System.Net;
using System.Net.Sockets;
using System.Text;
using TorrentEdge.Engine.Connections;
using TorrentEdge.Engine.Magnet;

namespace TorrentEdge.Engine.Tests.Connections;

/// <summary>
/// The engine under a production policy dials no refused destination: a local listener sees nothing. Each case has a
/// control with loopback allowed, in which the same listener does see the engine (so silence means refusal). Every
/// socket is on 127.0.0.0/8.
/// </summary>
public sealed class DestinationPolicyDialTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan Silence = TimeSpan.FromSeconds(4);
    private readonly string _root = Path.Combine(Path.GetTempPath(), "te-dest-" + Guid.NewGuid().ToString("N"));

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private ClientEngine Engine(DestinationPolicy policy) => new(new EngineOptions
    {
        ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
        DownloadDirectory = _root,
        Destinations = policy,
    });

    private static string RandomHash() => Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()) + "00000000";

    /// <summary>Counts the TCP connections a listener accepts (and closes them).</summary>
    private sealed class CountingListener : IDisposable
    {
        private readonly TcpListener _listener;
        private readonly CancellationTokenSource _stop = new();
        private int _accepted;

        public CountingListener(IPAddress address)
        {
            _listener = new TcpListener(address, 0);
            _listener.Start();
            _ = AcceptAsync(_stop.Token);
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public int Accepted => Volatile.Read(ref _accepted);

        private async Task AcceptAsync(CancellationToken cancellationToken)
        {
            try
            {
                while (true)
                {
                    using var client = await _listener.AcceptTcpClientAsync(cancellationToken);
                    Interlocked.Increment(ref _accepted);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
        }
    }

    /// <summary>An HTTP "tracker" that answers every request with a redirect to <paramref name="location"/>.</summary>
    private sealed class RedirectingTracker : IDisposable
    {
        private readonly TcpListener _listener;
        private readonly CancellationTokenSource _stop = new();
        private int _requests;

        public RedirectingTracker(IPAddress address, string location)
        {
            _listener = new TcpListener(address, 0);
            _listener.Start();
            _ = ServeAsync(location, _stop.Token);
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public int Requests => Volatile.Read(ref _requests);

        private async Task ServeAsync(string location, CancellationToken cancellationToken)
        {
            try
            {
                while (true)
                {
                    using var client = await _listener.AcceptTcpClientAsync(cancellationToken);
                    var stream = client.GetStream();
                    var buffer = new byte[8192];
                    var read = 0;
                    // Read the request head (bounded), then redirect.
                    while (read < buffer.Length && !Encoding.ASCII.GetString(buffer, 0, read).Contains("\r\n\r\n", StringComparison.Ordinal))
                    {
                        var n = await stream.ReadAsync(buffer.AsMemory(read), cancellationToken);
                        if (n == 0)
                        {
                            break;
                        }
                        read += n;
                    }
                    Interlocked.Increment(ref _requests);
                    var answer = $"HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
                    await stream.WriteAsync(Encoding.ASCII.GetBytes(answer), cancellationToken);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException or IOException)
            {
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(Bound);
        while (!condition())
        {
            Assert.False(timeout.IsCancellationRequested, what);
            await Task.Delay(50, CancellationToken.None);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TrackerRedirect_ToLoopbackUnderProductionPolicy_NeverDialled(bool loopbackAllowed)
    {
        using var target = new CountingListener(IPAddress.Loopback);
        // The tracker itself is on 127.0.0.2, which the allow-list admits; its redirect points at 127.0.0.1.
        using var tracker = new RedirectingTracker(IPAddress.Parse("127.0.0.2"), $"http://127.0.0.1:{target.Port}/announce");
        var policy = DestinationPolicy.PublicOnly with
        {
            AllowedNetworks = loopbackAllowed ? [IPNetwork.Parse("127.0.0.0/8")] : [IPNetwork.Parse("127.0.0.2/32")],
        };
        await using var engine = Engine(policy);
        await engine.StartAsync(Ct);

        await engine.AddMagnetAsync(MagnetLink.Parse(
            $"magnet:?xt=urn:btih:{RandomHash()}&tr={Uri.EscapeDataString($"http://127.0.0.2:{tracker.Port}/announce")}"), cancellationToken: Ct);

        await WaitUntilAsync(() => tracker.Requests > 0, "the engine never announced to the allowed tracker");
        if (loopbackAllowed)
        {
            await WaitUntilAsync(() => target.Accepted > 0, "control: the redirect was not followed although loopback is allowed");
        }
        else
        {
            await Task.Delay(Silence, Ct);
            Assert.Equal(0, target.Accepted);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task MagnetPeer_LoopbackUnderProductionPolicy_NeverDialled(bool loopbackAllowed)
    {
        using var peer = new CountingListener(IPAddress.Loopback);
        await using var engine = Engine(loopbackAllowed ? DestinationPolicy.PublicAndLoopback : DestinationPolicy.PublicOnly);
        await engine.StartAsync(Ct);

        await engine.AddMagnetAsync(MagnetLink.Parse($"magnet:?xt=urn:btih:{RandomHash()}&x.pe=127.0.0.1:{peer.Port}"), cancellationToken: Ct);

        if (loopbackAllowed)
        {
            await WaitUntilAsync(() => peer.Accepted > 0, "control: the x.pe peer was not dialled although loopback is allowed");
        }
        else
        {
            await Task.Delay(Silence, Ct);
            Assert.Equal(0, peer.Accepted);
        }
    }
}
