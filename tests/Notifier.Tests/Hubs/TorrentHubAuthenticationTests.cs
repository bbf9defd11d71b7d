using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TorrentEdge.Analytics.Tests.Apis;
using TorrentEdge.Contracts;
using TorrentEdge.Notifier.Hubs;
using TorrentEdge.ServiceDefaults.Messaging;

namespace TorrentEdge.Notifier.Tests.Hubs;

/// <summary>The hub as deployed (outside Development): only Catalog's ES256 tokens, and never past their expiry.</summary>
public sealed class TorrentHubAuthenticationTests : IAsyncLifetime
{
    private readonly EmbeddedKafka _kafka = EmbeddedKafka.Start();
    private readonly TestTokens _tokens = new();
    private WebApplicationFactory<Program> _factory = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        _kafka.CreateTopic(Topics.TorrentEvents, 2);
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b => b
            .UseEnvironment("Production")
            .UseSetting("ConnectionStrings:kafka", _kafka.BootstrapServers)
            .UseSetting("Auth:JwksUrl", TestTokens.JwksUrl)
            .ConfigureServices(s => s.AddHttpClient(DefaultAuthentication.JwksHttpClientName)
                .ConfigurePrimaryHttpMessageHandler(_tokens.CreateJwksHandler)));
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await _factory.DisposeAsync();
        _kafka.Dispose();
        _tokens.Dispose();
    }

    private async Task<HttpStatusCode> NegotiateAsync(string token)
    {
        using var client = _factory.CreateClient();
        using var response = await client.PostAsync($"{TorrentHub.Path}/negotiate?negotiateVersion=1&access_token={token}", null, Ct);
        return response.StatusCode;
    }

    [Fact]
    public async Task Negotiate_Es256Token_Accepted()
        => Assert.Equal(HttpStatusCode.OK, await NegotiateAsync(_tokens.Create("alice", "user")));

    [Fact]
    public async Task Negotiate_Rs256Token_Unauthorized()
        => Assert.Equal(HttpStatusCode.Unauthorized, await NegotiateAsync(_tokens.Create("alice", "user", DateTime.UtcNow.AddMinutes(5), rs256: true)));

    [Fact]
    public async Task Negotiate_ExpiredToken_Unauthorized()
        => Assert.Equal(HttpStatusCode.Unauthorized, await NegotiateAsync(_tokens.Create("alice", "user", DateTime.UtcNow.AddMinutes(-2))));

    [Fact]
    public async Task Negotiate_TokenInQuery_NotInAnyLogLine()
    {
        var lines = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await using var logged = _factory.WithWebHostBuilder(b => b
            .UseSetting("Logging:LogLevel:Default", "Debug")
            .UseSetting("Logging:LogLevel:Microsoft.AspNetCore", "Debug")
            .ConfigureLogging(l => l.AddProvider(new CapturingLoggerProvider(lines))));
        var token = _tokens.Create("alice", "user");
        using var client = logged.CreateClient();

        using var response = await client.PostAsync($"{TorrentHub.Path}/negotiate?negotiateVersion=1&access_token={token}", null, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(lines, l => l.Contains("negotiate", StringComparison.Ordinal));
        // The signature alone is enough to tell: it is the part that must never be seen.
        var signature = token[(token.LastIndexOf('.') + 1)..];
        Assert.DoesNotContain(lines, l => l.Contains(signature, StringComparison.Ordinal));
    }

    private sealed class CapturingLoggerProvider(System.Collections.Concurrent.ConcurrentQueue<string> lines) : Microsoft.Extensions.Logging.ILoggerProvider
    {
        public Microsoft.Extensions.Logging.ILogger CreateLogger(string categoryName) => new Logger(categoryName, lines);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, System.Collections.Concurrent.ConcurrentQueue<string> lines) : Microsoft.Extensions.Logging.ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

            public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception,
                Func<TState, Exception?, string> formatter)
            {
                var values = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(", ", pairs.Select(p => $"{p.Key}={p.Value}")) : "";
                lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} | {values}");
            }
        }
    }

    [Fact]
    public async Task Connection_TokenExpires_ClosedByTheServer()
    {
        // JWT times are whole seconds: a token good for 3 to 4 more seconds.
        var expires = DateTime.UtcNow.AddSeconds(4);
        var token = _tokens.Create("alice", "user", expires);
        var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(_factory.Server.BaseAddress, TorrentHub.Path), o =>
            {
                o.HttpMessageHandlerFactory = _ => _factory.Server.CreateHandler();
                o.Transports = HttpTransportType.LongPolling;
                o.AccessTokenProvider = () => Task.FromResult<string?>(token);
            })
            .Build();
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.Closed += _ =>
        {
            closed.TrySetResult();
            return Task.CompletedTask;
        };
        await connection.StartAsync(Ct);
        Assert.Equal(HubConnectionState.Connected, connection.State);

        await closed.Task.WaitAsync(TimeSpan.FromSeconds(20), Ct);

        Assert.True(DateTime.UtcNow >= expires.AddSeconds(-1), "closed before the token expired");
        await connection.DisposeAsync();
    }
}
