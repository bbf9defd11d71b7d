using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using TorrentEdge.AppHost.Resources;

namespace TorrentEdge.AppHost.Tests.Resources;

public sealed class PromptHealthCheckTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task CheckHealth_ServiceTurnsHealthyWithinTheWindow_OneCallSeesIt()
    {
        await using var service = new ScriptedHttp(unhealthyAnswers: 5);
        using var http = new HttpClient();
        var check = new PromptHealthCheck(() => service.BaseAddress, "/health", http, TimeProvider.System);

        var result = await check.CheckHealthAsync(new HealthCheckContext(), Ct);

        // A single request (what Aspire's own check makes per call) would have seen the first 503.
        Assert.Equal(HealthStatus.Healthy, result.Status);
        Assert.Equal(6, service.Requests);
    }

    [Fact]
    public async Task CheckHealth_ServiceStaysUnhealthy_UnhealthyWithTheAnswerAfterTheWindow()
    {
        await using var service = new ScriptedHttp(unhealthyAnswers: int.MaxValue);
        using var http = new HttpClient();
        var check = new PromptHealthCheck(() => service.BaseAddress, "/health", http, TimeProvider.System);
        var started = TimeProvider.System.GetTimestamp();

        var result = await check.CheckHealthAsync(new HealthCheckContext(), Ct);

        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Contains("answered 503", result.Description, StringComparison.Ordinal);
        Assert.InRange(TimeProvider.System.GetElapsedTime(started), TimeSpan.FromSeconds(2.9), TimeSpan.FromSeconds(20));
        Assert.InRange(service.Requests, 10, 31);
    }

    [Fact]
    public async Task CheckHealth_NothingListens_Unhealthy()
    {
        using var http = new HttpClient();
        var check = new PromptHealthCheck(() => new Uri("http://127.0.0.1:9/"), "/health", http, TimeProvider.System);

        var result = await check.CheckHealthAsync(new HealthCheckContext(), Ct);

        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Contains("127.0.0.1:9", result.Description, StringComparison.Ordinal);
    }

    /// <summary>Answers 503 to the first N requests, then 200, one request per connection.</summary>
    private sealed class ScriptedHttp : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _serving;
        private readonly int _unhealthyAnswers;
        private int _requests;

        public ScriptedHttp(int unhealthyAnswers)
        {
            _unhealthyAnswers = unhealthyAnswers;
            _listener.Start();
            _serving = ServeAsync();
        }

        public Uri BaseAddress => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");
        public int Requests => Volatile.Read(ref _requests);

        private async Task ServeAsync()
        {
            try
            {
                while (!_stop.IsCancellationRequested)
                {
                    using var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                    var stream = client.GetStream();
                    var buffer = new byte[4096];
                    var read = 0;
                    while (read < buffer.Length && !Encoding.ASCII.GetString(buffer, 0, read).Contains("\r\n\r\n", StringComparison.Ordinal))
                    {
                        var n = await stream.ReadAsync(buffer.AsMemory(read), _stop.Token);
                        if (n == 0) break;
                        read += n;
                    }
                    var number = Interlocked.Increment(ref _requests);
                    var status = number <= _unhealthyAnswers ? "503 Service Unavailable" : "200 OK";
                    await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"), _stop.Token);
                }
            }
            catch (OperationCanceledException)
            {
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            await _serving;
            _stop.Dispose();
        }
    }
}
