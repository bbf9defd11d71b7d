using System.Collections;
using System.Diagnostics;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Instrumentation.AspNetCore;
using OpenTelemetry.Instrumentation.Http;
using OpenTelemetry.Trace;

namespace TorrentEdge.ServiceDefaults.Logging;

/// <summary>
/// Keeps credentials (<c>access_token</c> and similar query values, Authorization and Cookie headers, bearer tokens) out of
/// every log line and trace, whatever the log level and whatever the OpenTelemetry redaction settings.
/// </summary>
/// <remarks>
/// The leaks it closes: YARP's forwarder logs the URL it proxies to (the SignalR token rides in the query) at Information;
/// ASP.NET Core's hosting logs request paths with query strings; OpenTelemetry's ASP.NET Core and HttpClient
/// instrumentation record <c>url.query</c> and <c>url.full</c>, and .NET Aspire turns their own query redaction off
/// (<c>OTEL_DOTNET_EXPERIMENTAL_*_DISABLE_URL_QUERY_REDACTION=true</c>), so the redaction here does not depend on them.
/// Exception messages and logging scopes are not rewritten.
/// </remarks>
public static partial class CredentialRedaction
{
    /// <summary>What a credential is replaced with.</summary>
    public const string Redacted = "[Redacted]";

    /// <summary>
    /// Wires redaction into logging (every logger of the host's factory), tracing (OpenTelemetry enrichment and processor)
    /// and every activity of the process (a listener that rewrites tags as activities start and stop).
    /// </summary>
    public static TBuilder AddCredentialRedaction<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        // Decorating the factory rather than each provider covers providers added later too (tests, OTLP, console).
        builder.Services.Replace(ServiceDescriptor.Singleton<ILoggerFactory>(sp => new RedactingLoggerFactory(new LoggerFactory(
            sp.GetServices<ILoggerProvider>(),
            sp.GetRequiredService<IOptionsMonitor<LoggerFilterOptions>>(),
            sp.GetService<IOptions<LoggerFactoryOptions>>(),
            sp.GetService<IExternalScopeProvider>()))));

        builder.Services.Configure<AspNetCoreTraceInstrumentationOptions>(o =>
        {
            var previous = o.EnrichWithHttpRequest;
            o.EnrichWithHttpRequest = (activity, request) =>
            {
                previous?.Invoke(activity, request);
                RedactTags(activity);
            };
        });
        builder.Services.Configure<HttpClientTraceInstrumentationOptions>(o =>
        {
            var previous = o.EnrichWithHttpRequestMessage;
            o.EnrichWithHttpRequestMessage = (activity, request) =>
            {
                previous?.Invoke(activity, request);
                RedactTags(activity);
            };
        });
        builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddProcessor(new RedactingProcessor()));
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ActivityRedactionListener>());
        return builder;
    }

    /// <summary>True when <paramref name="text"/> may hold a credential (a cheap test before the regular expressions).</summary>
    public static bool MayContainCredential(string? text)
        => text is not null && MarkerPattern().IsMatch(text);

    /// <summary>Replaces credentials in free text: query values, bearer/basic tokens, Authorization and Cookie headers.</summary>
    public static string RedactText(string text)
    {
        if (!MayContainCredential(text))
        {
            return text;
        }
        text = QueryValuePattern().Replace(text, m => m.Groups[1].Value + "=" + Redacted);
        text = SchemeTokenPattern().Replace(text, m => m.Groups[1].Value + " " + Redacted);
        return HeaderPattern().Replace(text, m => m.Groups[1].Value + ": " + Redacted);
    }

    /// <summary>Whether a header (or a log value or tag named after one) carries credentials as a whole.</summary>
    public static bool IsSensitiveName(string name)
    {
        var header = name.StartsWith("http.request.header.", StringComparison.OrdinalIgnoreCase) ? name["http.request.header.".Length..]
            : name.StartsWith("http.response.header.", StringComparison.OrdinalIgnoreCase) ? name["http.response.header.".Length..]
            : name;
        return header.Equals("authorization", StringComparison.OrdinalIgnoreCase)
            || header.Equals("proxy-authorization", StringComparison.OrdinalIgnoreCase)
            || header.Equals("cookie", StringComparison.OrdinalIgnoreCase)
            || header.Equals("set-cookie", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Rewrites the tags of <paramref name="activity"/> that hold credentials (url.query, url.full, headers, ...).</summary>
    public static void RedactTags(Activity activity)
    {
        List<KeyValuePair<string, object?>>? changes = null;
        foreach (var (key, value) in activity.TagObjects)
        {
            var replacement = RedactValue(key, value);
            if (!ReferenceEquals(replacement, value))
            {
                (changes ??= []).Add(new(key, replacement));
            }
        }
        foreach (var (key, value) in changes ?? [])
        {
            activity.SetTag(key, value);
        }
        if (MayContainCredential(activity.DisplayName))
        {
            activity.DisplayName = RedactText(activity.DisplayName);
        }
    }

    /// <summary>The value to log or record instead of <paramref name="value"/>: the same instance when nothing is secret.</summary>
    internal static object? RedactValue(string key, object? value)
    {
        if (value is null)
        {
            return null;
        }
        if (IsSensitiveName(key))
        {
            return Redacted;
        }
        if (value is string s)
        {
            return MayContainCredential(s) ? RedactText(s) : value;
        }
        if (value.GetType().IsPrimitive || value is Enum or DateTime or DateTimeOffset or TimeSpan or Guid)
        {
            return value;
        }
        // Uris, PathStrings, QueryStrings and the like are logged through ToString.
        var text = value.ToString();
        return MayContainCredential(text) ? RedactText(text!) : value;
    }

    // Query keys whose values are credentials: OAuth-style tokens, SignalR's access_token, secrets, tracker passkeys.
    private const string SecretKeys = "access_token|refresh_token|id_token|token|client_secret|password|passkey|api_key|apikey";

    [GeneratedRegex("(?:" + SecretKeys + ")=|bearer|basic |authorization|cookie", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex MarkerPattern();

    [GeneratedRegex(@"(?<![A-Za-z0-9_])(" + SecretKeys + @")=[^&\s""'#,;)]*", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex QueryValuePattern();

    [GeneratedRegex(@"\b(Bearer|Basic)\s+(?!\[Redacted\])[A-Za-z0-9\-._~+/]+=*", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SchemeTokenPattern();

    [GeneratedRegex(@"\b(Authorization|Proxy-Authorization|Cookie|Set-Cookie)\s*:\s*(?!\[Redacted\])[^\r\n]+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex HeaderPattern();

    /// <summary>Hands out loggers that redact before any provider sees a message.</summary>
    private sealed class RedactingLoggerFactory(ILoggerFactory inner) : ILoggerFactory
    {
        public ILogger CreateLogger(string categoryName) => new RedactingLogger(inner.CreateLogger(categoryName));

        public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

        public void Dispose() => inner.Dispose();
    }

    private sealed class RedactingLogger(ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!inner.IsEnabled(logLevel))
            {
                return;
            }
            var message = formatter(state, exception);
            var values = state as IReadOnlyList<KeyValuePair<string, object?>>;
            if (!NeedsRedaction(message, values))
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
                return;
            }
            var redacted = new RedactedState(RedactText(message), values);
            inner.Log(logLevel, eventId, redacted, exception, static (s, _) => s.Message);
        }

        private static bool NeedsRedaction(string message, IReadOnlyList<KeyValuePair<string, object?>>? values)
        {
            if (MayContainCredential(message))
            {
                return true;
            }
            if (values is null)
            {
                return false;
            }
            for (var i = 0; i < values.Count; i++)
            {
                var (key, value) = values[i];
                if (!ReferenceEquals(RedactValue(key, value), value))
                {
                    return true;
                }
            }
            return false;
        }
    }

    /// <summary>A log entry's structured values with credentials replaced; the message is the redacted formatted text.</summary>
    private sealed class RedactedState : IReadOnlyList<KeyValuePair<string, object?>>
    {
        private readonly List<KeyValuePair<string, object?>> _values;

        public RedactedState(string message, IReadOnlyList<KeyValuePair<string, object?>>? values)
        {
            Message = message;
            _values = values is null ? [] : values.Select(v => new KeyValuePair<string, object?>(v.Key, RedactValue(v.Key, v.Value))).ToList();
        }

        public string Message { get; }

        public int Count => _values.Count;

        public KeyValuePair<string, object?> this[int index] => _values[index];

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => _values.GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => Message;
    }

    /// <summary>Redacts the activities OpenTelemetry exports, once their tags are final.</summary>
    private sealed class RedactingProcessor : BaseProcessor<Activity>
    {
        public override void OnEnd(Activity data) => RedactTags(data);
    }

    /// <summary>
    /// Redacts every activity of the process as it starts and stops, including sources OpenTelemetry does not export
    /// (YARP's, the runtime's own HttpClient tags) and any other listener's view of them.
    /// </summary>
    private sealed class ActivityRedactionListener : IHostedService, IDisposable
    {
        private ActivityListener? _listener;

        public Task StartAsync(CancellationToken cancellationToken)
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = _ => true,
                // Never asks for an activity to be created: only rewrites those someone else wants.
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.None,
                ActivityStarted = RedactTags,
                ActivityStopped = RedactTags,
            };
            ActivitySource.AddActivityListener(_listener);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken)
        {
            Dispose();
            return Task.CompletedTask;
        }

        public void Dispose()
        {
            _listener?.Dispose();
            _listener = null;
        }
    }
}
