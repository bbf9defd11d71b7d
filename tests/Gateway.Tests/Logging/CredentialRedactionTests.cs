using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using TorrentEdge.Gateway.Tests.Infrastructure;

namespace TorrentEdge.Gateway.Tests.Logging;

/// <summary>
/// Credentials sent through the real Gateway (a SignalR-style <c>access_token</c>, a bearer token, a cookie) appear in no
/// log line at Debug and no activity tag, with OpenTelemetry's own query redaction turned off as .NET Aspire does.
/// </summary>
public sealed class CredentialRedactionTests
{
    private const string QueryToken = "SECRETQUERYTOKEN1";
    private const string BearerToken = "SECRETBEARERTOKEN2";
    private const string CookieValue = "SECRETCOOKIE3";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ProxiedRequest_WithTokenInQueryHeaderAndCookie_NoSecretInLogsOrTraces()
    {
        var logs = new CapturingLoggerProvider();
        var activities = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = _ => true,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activities.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);

        await using var notifier = await Backend.StartAsync("notifier", Ct);
        var settings = GatewayFactory.Discovery(("notifier", [notifier]));
        settings["Logging:LogLevel:Default"] = "Debug";
        settings["Logging:LogLevel:Microsoft.AspNetCore"] = "Debug";
        settings["Logging:LogLevel:Yarp"] = "Debug";
        // What the Aspire AppHost puts in every service's environment.
        settings["OTEL_DOTNET_EXPERIMENTAL_ASPNETCORE_DISABLE_URL_QUERY_REDACTION"] = "true";
        settings["OTEL_DOTNET_EXPERIMENTAL_HTTPCLIENT_DISABLE_URL_QUERY_REDACTION"] = "true";
        await using var gateway = new GatewayFactory(settings, b => b.ConfigureLogging(l => l.AddProvider(logs)));
        using var client = gateway.CreateRealClient();

        using var request = new HttpRequestMessage(HttpMethod.Post, $"/hubs/torrents/negotiate?negotiateVersion=1&access_token={QueryToken}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", BearerToken);
        request.Headers.Add("Cookie", $"session={CookieValue}");
        using var response = await client.SendAsync(request, Ct);
        var echo = await response.Content.ReadAsStringAsync(Ct);

        // The backend got the token (the proxy must still pass credentials on); only the records are cleaned.
        Assert.Contains(QueryToken, echo);
        Assert.Equal(1, notifier.Requests);
        // Server-side activities stop a moment after the response is sent.
        await Task.Delay(500, Ct);

        Assert.Contains(logs.Lines, l => l.Contains("/hubs/torrents/negotiate", StringComparison.Ordinal));
        Assert.Contains(activities, a => a.Source.Name == "Microsoft.AspNetCore");
        foreach (var secret in new[] { QueryToken, BearerToken, CookieValue })
        {
            Assert.DoesNotContain(logs.Lines, l => l.Contains(secret, StringComparison.Ordinal));
            foreach (var activity in activities)
            {
                Assert.DoesNotContain(secret, activity.DisplayName, StringComparison.Ordinal);
                foreach (var (key, value) in activity.TagObjects)
                {
                    Assert.False(value?.ToString()?.Contains(secret, StringComparison.Ordinal) == true,
                        $"{activity.Source.Name}/{activity.OperationName} tag {key} = {value}");
                }
            }
        }
    }

    /// <summary>Every log entry at every level: the formatted message and each structured value.</summary>
    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        public ConcurrentQueue<string> Lines { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, Lines);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var values = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(", ", pairs.Select(p => $"{p.Key}={p.Value}")) : "";
                lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} | {values}");
            }
        }
    }
}
